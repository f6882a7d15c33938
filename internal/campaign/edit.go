package campaign

import (
	"context"
	"errors"
	"fmt"

	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// UpdateCampaign replaces what a draft campaign is made of with in, checked as
// CreateCampaign checks it (from in.Template, the template's content is copied again). Only a
// draft changes: a campaign scheduled, sending or done is operr.Invalid for field "status"
// (unschedule or cancel it first), as Start and Schedule refuse a campaign not in draft.
func (s *Service) UpdateCampaign(ctx context.Context, id int64, in CampaignInput) (store.Campaign, error) {
	old, err := s.Campaign(ctx, id)
	if err != nil {
		return store.Campaign{}, err
	}
	if err := notTransactional(old); err != nil {
		return store.Campaign{}, err
	}
	if old.Status != store.CampaignDraft {
		return store.Campaign{}, operr.New(operr.Invalid, "status", string(old.Status), nil,
			"campaign %d is %s: only a draft can be changed", id, old.Status)
	}
	c, err := s.campaignOf(ctx, in)
	if err != nil {
		return store.Campaign{}, err
	}
	c.ID = id
	updated, err := s.Store.UpdateCampaign(ctx, c)
	if errors.Is(err, store.ErrNotFound) {
		return store.Campaign{}, operr.New(operr.NotFound, "campaign", fmt.Sprint(id), err, "unknown campaign %d", id)
	} else if err != nil {
		return store.Campaign{}, err
	}
	return updated, s.record(ctx, "campaign.update", campaignTarget(id), campaignDetails(updated, in))
}

// DeleteCampaign deletes a campaign with its send ledger, links and events (its statistics go
// with it; what it queued stays queued). A campaign scheduled, running or paused is
// operr.InUse: cancel it first.
func (s *Service) DeleteCampaign(ctx context.Context, id int64) error {
	c, err := s.Campaign(ctx, id)
	if err != nil {
		return err
	}
	if err := notTransactional(c); err != nil {
		return err
	}
	switch c.Status {
	case store.CampaignScheduled, store.CampaignRunning, store.CampaignPaused:
		return operr.New(operr.InUse, "status", string(c.Status), nil, "campaign %d is %s: cancel it first", id, c.Status)
	}
	err = s.Store.DeleteCampaign(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return operr.New(operr.NotFound, "campaign", fmt.Sprint(id), err, "unknown campaign %d", id)
	} else if err != nil {
		return err
	}
	return s.record(ctx, "campaign.delete", campaignTarget(id), nil)
}

// notTransactional refuses the record of transactional sends (POST /api/v1/send), which is
// kept as a campaign of its own kind but is none to edit or delete.
func notTransactional(c store.Campaign) error {
	if c.Kind == store.CampaignTransactional {
		return operr.New(operr.Invalid, "campaign", fmt.Sprint(c.ID), nil, "campaign %d holds transactional sends, not a campaign", c.ID)
	}
	return nil
}
