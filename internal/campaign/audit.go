package campaign

import (
	"context"
	"fmt"

	"posthorn/internal/audit"
)

// record appends one entry to the audit log after an operation succeeded, with the actor of
// ctx (the CLI's user, the JSON API's token, or the system for the send loop's own moves), as
// internal/admin does: these are the one layer of bulk mail's operations that the CLI and the
// API both call, so each is recorded once whichever interface asked. Details carry names,
// counts and statuses, never a template's content or a consent's text.
//
// The operations recorded: list.create, list.delete; subscriber.save (created or updated,
// with the list it was subscribed to), subscriber.delete, subscriber.unsubscribe,
// subscriber.import (the counts of the CSV import); template.create, template.update,
// template.delete; campaign.create, campaign.test, campaign.schedule, campaign.start,
// campaign.pause, campaign.resume, campaign.cancel, campaign.unschedule; suppression.add,
// suppression.remove, suppression.import. Not recorded: what subscribers do themselves through
// the public endpoints (Tracker: unsubscribe, preferences, the subscription form and its
// confirmation, which keep their consent records), the automatic suppressions of bounces and
// complaints (Feedback, in the campaign's events), and the send API's transactional messages.
func (s *Service) record(ctx context.Context, action, target string, details audit.Details) error {
	log, err := audit.For(s.Store)
	if err == nil {
		err = log.Record(ctx, action, target, details)
	}
	if err != nil {
		return fmt.Errorf("%s %s done, but not recorded in the audit log: %w", action, target, err)
	}
	return nil
}

// campaignTarget is a campaign's id as an audit entry's target.
func campaignTarget(id int64) string { return fmt.Sprint(id) }
