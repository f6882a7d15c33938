package faultstore

// The forwarding methods: each fails while the fault is on, and calls the wrapped store
// otherwise.

import (
	"context"
	"time"

	"posthorn/internal/auth"
	"posthorn/internal/store"
)

func (s *Store) AccountUsage(ctx context.Context, a1 int64) (int64, int64, error) {
	if err := s.fault(); err != nil {
		return 0, 0, err
	}
	return s.Store.AccountUsage(ctx, a1)
}

func (s *Store) AddAccount(ctx context.Context, a1 string, a2 string) (store.Account, error) {
	if err := s.fault(); err != nil {
		return store.Account{}, err
	}
	return s.Store.AddAccount(ctx, a1, a2)
}

func (s *Store) AddAlias(ctx context.Context, a1 string, a2 []string) (store.Alias, error) {
	if err := s.fault(); err != nil {
		return store.Alias{}, err
	}
	return s.Store.AddAlias(ctx, a1, a2)
}

func (s *Store) AddAppPassword(ctx context.Context, a1 store.AppPassword) (store.AppPassword, error) {
	if err := s.fault(); err != nil {
		return store.AppPassword{}, err
	}
	return s.Store.AddAppPassword(ctx, a1)
}

func (s *Store) AddDKIMKey(ctx context.Context, a1 store.DKIMKey) (store.DKIMKey, error) {
	if err := s.fault(); err != nil {
		return store.DKIMKey{}, err
	}
	return s.Store.AddDKIMKey(ctx, a1)
}

func (s *Store) AddDomain(ctx context.Context, a1 string) (store.Domain, error) {
	if err := s.fault(); err != nil {
		return store.Domain{}, err
	}
	return s.Store.AddDomain(ctx, a1)
}

func (s *Store) AddEvents(ctx context.Context, a1 []store.Event) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.AddEvents(ctx, a1)
}

func (s *Store) AddMailEvents(ctx context.Context, a1 []store.MailEvent) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.AddMailEvents(ctx, a1)
}

func (s *Store) AddSendAs(ctx context.Context, a1 int64, a2 string) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.AddSendAs(ctx, a1, a2)
}

func (s *Store) AddSuppressions(ctx context.Context, a1 []store.Suppression) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.AddSuppressions(ctx, a1)
}

func (s *Store) BlobIDs(ctx context.Context, a1 func(string) error) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.BlobIDs(ctx, a1)
}

func (s *Store) CampaignKey(ctx context.Context) ([]uint8, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.CampaignKey(ctx)
}

func (s *Store) CampaignLinks(ctx context.Context, a1 int64) ([]store.CampaignLink, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.CampaignLinks(ctx, a1)
}

func (s *Store) CampaignRecipients(ctx context.Context, a1 int64, a2 int) ([]store.Recipient, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.CampaignRecipients(ctx, a1, a2)
}

func (s *Store) CampaignStats(ctx context.Context, a1 int64) (store.CampaignStats, error) {
	if err := s.fault(); err != nil {
		return store.CampaignStats{}, err
	}
	return s.Store.CampaignStats(ctx, a1)
}

func (s *Store) ChangedSince(ctx context.Context, a1 int64, a2 uint64) ([]store.Message, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.ChangedSince(ctx, a1, a2)
}

func (s *Store) Check(ctx context.Context) ([]string, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.Check(ctx)
}

func (s *Store) ClaimRecent(ctx context.Context, a1 int64) (uint32, uint32, error) {
	if err := s.fault(); err != nil {
		return 0, 0, err
	}
	return s.Store.ClaimRecent(ctx, a1)
}

func (s *Store) Close() error {
	return s.Store.Close()
}

func (s *Store) Copy(ctx context.Context, a1 int64, a2 []uint32, a3 int64) ([]store.UIDPair, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.Copy(ctx, a1, a2, a3)
}

func (s *Store) CountFrom(ctx context.Context, a1 int64, a2 uint32) (int64, error) {
	if err := s.fault(); err != nil {
		return 0, err
	}
	return s.Store.CountFrom(ctx, a1, a2)
}

func (s *Store) CountSubscriptions(ctx context.Context, a1 int64) (map[store.SubscriptionStatus]int64, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.CountSubscriptions(ctx, a1)
}

func (s *Store) CreateAPIToken(ctx context.Context, a1 store.APIToken) (store.APIToken, error) {
	if err := s.fault(); err != nil {
		return store.APIToken{}, err
	}
	return s.Store.CreateAPIToken(ctx, a1)
}

func (s *Store) CreateCampaign(ctx context.Context, a1 store.Campaign) (store.Campaign, error) {
	if err := s.fault(); err != nil {
		return store.Campaign{}, err
	}
	return s.Store.CreateCampaign(ctx, a1)
}

func (s *Store) CreateList(ctx context.Context, a1 store.List) (store.List, error) {
	if err := s.fault(); err != nil {
		return store.List{}, err
	}
	return s.Store.CreateList(ctx, a1)
}

func (s *Store) CreateMailbox(ctx context.Context, a1 int64, a2 string, a3 string) (store.Mailbox, error) {
	if err := s.fault(); err != nil {
		return store.Mailbox{}, err
	}
	return s.Store.CreateMailbox(ctx, a1, a2, a3)
}

func (s *Store) CreateTemplate(ctx context.Context, a1 store.Template) (store.Template, error) {
	if err := s.fault(); err != nil {
		return store.Template{}, err
	}
	return s.Store.CreateTemplate(ctx, a1)
}

func (s *Store) CreateTransactional(ctx context.Context, a1 store.TransactionalSend) (store.TransactionalSend, bool, error) {
	if err := s.fault(); err != nil {
		return store.TransactionalSend{}, false, err
	}
	return s.Store.CreateTransactional(ctx, a1)
}

func (s *Store) CreateWebSession(ctx context.Context, a1 store.WebSession) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.CreateWebSession(ctx, a1)
}

func (s *Store) DKIMKeys(ctx context.Context, a1 string) ([]store.DKIMKey, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.DKIMKeys(ctx, a1)
}

func (s *Store) DeleteCampaign(ctx context.Context, a1 int64) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.DeleteCampaign(ctx, a1)
}

func (s *Store) DeleteExpiredWebSessions(ctx context.Context, a1 time.Time, a2 time.Time) (int, error) {
	if err := s.fault(); err != nil {
		return 0, err
	}
	return s.Store.DeleteExpiredWebSessions(ctx, a1, a2)
}

func (s *Store) DeleteList(ctx context.Context, a1 int64) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.DeleteList(ctx, a1)
}

func (s *Store) DeleteMailbox(ctx context.Context, a1 int64, a2 string) ([]string, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.DeleteMailbox(ctx, a1, a2)
}

func (s *Store) DeleteSubscriber(ctx context.Context, a1 int64) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.DeleteSubscriber(ctx, a1)
}

func (s *Store) DeleteTemplate(ctx context.Context, a1 int64) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.DeleteTemplate(ctx, a1)
}

func (s *Store) DeleteWebSession(ctx context.Context, a1 []uint8) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.DeleteWebSession(ctx, a1)
}

func (s *Store) DeleteWebSessions(ctx context.Context, a1 int64, a2 []uint8) (int, error) {
	if err := s.fault(); err != nil {
		return 0, err
	}
	return s.Store.DeleteWebSessions(ctx, a1, a2)
}

func (s *Store) Deliver(ctx context.Context, a1 []store.Delivery) ([][]store.Delivered, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.Deliver(ctx, a1)
}

func (s *Store) EnsureSCRAMSalt(ctx context.Context, a1 int64, a2 auth.SCRAMSalt) (auth.SCRAMSalt, error) {
	if err := s.fault(); err != nil {
		return auth.SCRAMSalt{}, err
	}
	return s.Store.EnsureSCRAMSalt(ctx, a1, a2)
}

func (s *Store) Expunge(ctx context.Context, a1 int64, a2 []uint32) ([]uint32, []string, error) {
	if err := s.fault(); err != nil {
		return nil, nil, err
	}
	return s.Store.Expunge(ctx, a1, a2)
}

func (s *Store) ExpungedSince(ctx context.Context, a1 int64, a2 uint64) ([]uint32, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.ExpungedSince(ctx, a1, a2)
}

func (s *Store) FillRecipients(ctx context.Context, a1 int64) (int64, error) {
	if err := s.fault(); err != nil {
		return 0, err
	}
	return s.Store.FillRecipients(ctx, a1)
}

func (s *Store) FindAppPassword(ctx context.Context, a1 int64, a2 string) (store.AppPassword, error) {
	if err := s.fault(); err != nil {
		return store.AppPassword{}, err
	}
	return s.Store.FindAppPassword(ctx, a1, a2)
}

func (s *Store) FirstUnseen(ctx context.Context, a1 int64) (uint32, error) {
	if err := s.fault(); err != nil {
		return 0, err
	}
	return s.Store.FirstUnseen(ctx, a1)
}

func (s *Store) GetAPIToken(ctx context.Context, a1 int64) (store.APIToken, error) {
	if err := s.fault(); err != nil {
		return store.APIToken{}, err
	}
	return s.Store.GetAPIToken(ctx, a1)
}

func (s *Store) GetAccount(ctx context.Context, a1 string) (store.Account, error) {
	if err := s.fault(); err != nil {
		return store.Account{}, err
	}
	return s.Store.GetAccount(ctx, a1)
}

func (s *Store) GetAccountByID(ctx context.Context, a1 int64) (store.Account, error) {
	if err := s.fault(); err != nil {
		return store.Account{}, err
	}
	return s.Store.GetAccountByID(ctx, a1)
}

func (s *Store) GetAlias(ctx context.Context, a1 string) (store.Alias, error) {
	if err := s.fault(); err != nil {
		return store.Alias{}, err
	}
	return s.Store.GetAlias(ctx, a1)
}

func (s *Store) GetCampaign(ctx context.Context, a1 int64) (store.Campaign, error) {
	if err := s.fault(); err != nil {
		return store.Campaign{}, err
	}
	return s.Store.GetCampaign(ctx, a1)
}

func (s *Store) GetDomain(ctx context.Context, a1 string) (store.Domain, error) {
	if err := s.fault(); err != nil {
		return store.Domain{}, err
	}
	return s.Store.GetDomain(ctx, a1)
}

func (s *Store) GetList(ctx context.Context, a1 string) (store.List, error) {
	if err := s.fault(); err != nil {
		return store.List{}, err
	}
	return s.Store.GetList(ctx, a1)
}

func (s *Store) GetListByID(ctx context.Context, a1 int64) (store.List, error) {
	if err := s.fault(); err != nil {
		return store.List{}, err
	}
	return s.Store.GetListByID(ctx, a1)
}

func (s *Store) GetMailbox(ctx context.Context, a1 int64, a2 string) (store.Mailbox, error) {
	if err := s.fault(); err != nil {
		return store.Mailbox{}, err
	}
	return s.Store.GetMailbox(ctx, a1, a2)
}

func (s *Store) GetMailboxByID(ctx context.Context, a1 int64) (store.Mailbox, error) {
	if err := s.fault(); err != nil {
		return store.Mailbox{}, err
	}
	return s.Store.GetMailboxByID(ctx, a1)
}

func (s *Store) GetMessageMeta(ctx context.Context, a1 int64, a2 []uint32) ([]store.Message, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.GetMessageMeta(ctx, a1, a2)
}

func (s *Store) GetMessages(ctx context.Context, a1 int64, a2 []uint32) ([]store.Message, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.GetMessages(ctx, a1, a2)
}

func (s *Store) GetRecipient(ctx context.Context, a1 int64) (store.Recipient, error) {
	if err := s.fault(); err != nil {
		return store.Recipient{}, err
	}
	return s.Store.GetRecipient(ctx, a1)
}

func (s *Store) GetSendLimits(ctx context.Context, a1 int64) (store.SendLimits, error) {
	if err := s.fault(); err != nil {
		return store.SendLimits{}, err
	}
	return s.Store.GetSendLimits(ctx, a1)
}

func (s *Store) GetSubscriber(ctx context.Context, a1 string) (store.Subscriber, error) {
	if err := s.fault(); err != nil {
		return store.Subscriber{}, err
	}
	return s.Store.GetSubscriber(ctx, a1)
}

func (s *Store) GetSubscriberByID(ctx context.Context, a1 int64) (store.Subscriber, error) {
	if err := s.fault(); err != nil {
		return store.Subscriber{}, err
	}
	return s.Store.GetSubscriberByID(ctx, a1)
}

func (s *Store) GetSubscription(ctx context.Context, a1 int64, a2 int64) (store.Subscription, error) {
	if err := s.fault(); err != nil {
		return store.Subscription{}, err
	}
	return s.Store.GetSubscription(ctx, a1, a2)
}

func (s *Store) GetTemplate(ctx context.Context, a1 string) (store.Template, error) {
	if err := s.fault(); err != nil {
		return store.Template{}, err
	}
	return s.Store.GetTemplate(ctx, a1)
}

func (s *Store) GetTemplateByID(ctx context.Context, a1 int64) (store.Template, error) {
	if err := s.fault(); err != nil {
		return store.Template{}, err
	}
	return s.Store.GetTemplateByID(ctx, a1)
}

func (s *Store) GetWebSession(ctx context.Context, a1 []uint8) (store.WebSession, error) {
	if err := s.fault(); err != nil {
		return store.WebSession{}, err
	}
	return s.Store.GetWebSession(ctx, a1)
}

func (s *Store) HasBlob(ctx context.Context, a1 string) (bool, error) {
	if err := s.fault(); err != nil {
		return false, err
	}
	return s.Store.HasBlob(ctx, a1)
}

func (s *Store) IsSuppressed(ctx context.Context, a1 string, a2 time.Time) (store.Suppression, bool, error) {
	if err := s.fault(); err != nil {
		return store.Suppression{}, false, err
	}
	return s.Store.IsSuppressed(ctx, a1, a2)
}

func (s *Store) ListAPITokens(ctx context.Context) ([]store.APIToken, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.ListAPITokens(ctx)
}

func (s *Store) ListAccounts(ctx context.Context, a1 string) ([]store.Account, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.ListAccounts(ctx, a1)
}

func (s *Store) ListAliases(ctx context.Context) ([]store.Alias, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.ListAliases(ctx)
}

func (s *Store) ListAppPasswords(ctx context.Context, a1 int64) ([]store.AppPassword, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.ListAppPasswords(ctx, a1)
}

func (s *Store) ListCampaigns(ctx context.Context) ([]store.Campaign, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.ListCampaigns(ctx)
}

func (s *Store) ListDomains(ctx context.Context) ([]store.Domain, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.ListDomains(ctx)
}

func (s *Store) ListLists(ctx context.Context) ([]store.List, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.ListLists(ctx)
}

func (s *Store) ListMailboxes(ctx context.Context, a1 int64) ([]store.Mailbox, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.ListMailboxes(ctx, a1)
}

func (s *Store) ListMessages(ctx context.Context, a1 int64) ([]store.Message, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.ListMessages(ctx, a1)
}

func (s *Store) ListSendAs(ctx context.Context, a1 int64) ([]string, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.ListSendAs(ctx, a1)
}

func (s *Store) ListSubscribers(ctx context.Context, a1 store.SubscriberQuery) ([]store.SubscriberEntry, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.ListSubscribers(ctx, a1)
}

func (s *Store) ListSubscriptions(ctx context.Context, a1 int64) ([]string, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.ListSubscriptions(ctx, a1)
}

func (s *Store) ListSuppressions(ctx context.Context, a1 string, a2 int) ([]store.Suppression, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.ListSuppressions(ctx, a1, a2)
}

func (s *Store) ListTemplates(ctx context.Context) ([]store.Template, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.ListTemplates(ctx)
}

func (s *Store) ListUIDs(ctx context.Context, a1 int64) ([]uint32, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.ListUIDs(ctx, a1)
}

func (s *Store) LoginSourceSeen(ctx context.Context, a1 int64, a2 string) (time.Time, bool, error) {
	if err := s.fault(); err != nil {
		return time.Time{}, false, err
	}
	return s.Store.LoginSourceSeen(ctx, a1, a2)
}

func (s *Store) LoginSources(ctx context.Context, a1 int64) ([]store.LoginSource, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.LoginSources(ctx, a1)
}

func (s *Store) MailEventsOf(ctx context.Context, a1 string) ([]store.MailEvent, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.MailEventsOf(ctx, a1)
}

func (s *Store) MailboxSize(ctx context.Context, a1 int64) (int64, error) {
	if err := s.fault(); err != nil {
		return 0, err
	}
	return s.Store.MailboxSize(ctx, a1)
}

func (s *Store) MetaChangedSince(ctx context.Context, a1 int64, a2 uint64) ([]store.Message, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.MetaChangedSince(ctx, a1, a2)
}

func (s *Store) Move(ctx context.Context, a1 int64, a2 []uint32, a3 int64) ([]store.UIDPair, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.Move(ctx, a1, a2, a3)
}

func (s *Store) Ping(ctx context.Context) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.Ping(ctx)
}

func (s *Store) RecordAPITokenUse(ctx context.Context, a1 int64, a2 time.Time) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.RecordAPITokenUse(ctx, a1, a2)
}

func (s *Store) RecordDelivered(ctx context.Context, a1 store.Recipient, a2 store.Event) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.RecordDelivered(ctx, a1, a2)
}

func (s *Store) RecordJunkMove(ctx context.Context, a1 int64, a2 string, a3 bool, a4 time.Time) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.RecordJunkMove(ctx, a1, a2, a3, a4)
}

func (s *Store) RecordLoginSource(ctx context.Context, a1 int64, a2 string, a3 time.Time, a4 int) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.RecordLoginSource(ctx, a1, a2, a3, a4)
}

func (s *Store) RecordSent(ctx context.Context, a1 ...store.SentRecord) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.RecordSent(ctx, a1...)
}

func (s *Store) RecordSoftBounce(ctx context.Context, a1 int64, a2 string, a3 string, a4 time.Time) (bool, error) {
	if err := s.fault(); err != nil {
		return false, err
	}
	return s.Store.RecordSoftBounce(ctx, a1, a2, a3, a4)
}

func (s *Store) RecordWebLogin(ctx context.Context, a1 store.WebLogin, a2 int) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.RecordWebLogin(ctx, a1, a2)
}

func (s *Store) RecoveryCodesLeft(ctx context.Context, a1 int64) (int, error) {
	if err := s.fault(); err != nil {
		return 0, err
	}
	return s.Store.RecoveryCodesLeft(ctx, a1)
}

func (s *Store) RemoveAccount(ctx context.Context, a1 string) ([]string, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.RemoveAccount(ctx, a1)
}

func (s *Store) RemoveAlias(ctx context.Context, a1 string) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.RemoveAlias(ctx, a1)
}

func (s *Store) RemoveAppPassword(ctx context.Context, a1 int64, a2 string) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.RemoveAppPassword(ctx, a1, a2)
}

func (s *Store) RemoveDomain(ctx context.Context, a1 string) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.RemoveDomain(ctx, a1)
}

func (s *Store) RemoveMessages(ctx context.Context, a1 int64, a2 []uint32) ([]uint32, []string, error) {
	if err := s.fault(); err != nil {
		return nil, nil, err
	}
	return s.Store.RemoveMessages(ctx, a1, a2)
}

func (s *Store) RemoveSendAs(ctx context.Context, a1 int64, a2 string) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.RemoveSendAs(ctx, a1, a2)
}

func (s *Store) RemoveSuppression(ctx context.Context, a1 string) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.RemoveSuppression(ctx, a1)
}

func (s *Store) RenameMailbox(ctx context.Context, a1 int64, a2 string, a3 string) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.RenameMailbox(ctx, a1, a2, a3)
}

func (s *Store) ResetSoftBounces(ctx context.Context, a1 string) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.ResetSoftBounces(ctx, a1)
}

func (s *Store) RevokeAPIToken(ctx context.Context, a1 int64, a2 time.Time) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.RevokeAPIToken(ctx, a1, a2)
}

func (s *Store) SCRAMCredentials(ctx context.Context, a1 int64) (auth.SCRAMSalt, []auth.SCRAMKeys, error) {
	if err := s.fault(); err != nil {
		return auth.SCRAMSalt{}, nil, err
	}
	return s.Store.SCRAMCredentials(ctx, a1)
}

func (s *Store) SaveSubscriber(ctx context.Context, a1 store.Subscriber) (store.Subscriber, error) {
	if err := s.fault(); err != nil {
		return store.Subscriber{}, err
	}
	return s.Store.SaveSubscriber(ctx, a1)
}

func (s *Store) SearchMailEvents(ctx context.Context, a1 store.MailEventQuery) ([]store.MailEvent, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.SearchMailEvents(ctx, a1)
}

func (s *Store) SearchText(ctx context.Context, a1 int64, a2 store.TextField, a3 string) ([]uint32, []uint32, error) {
	if err := s.fault(); err != nil {
		return nil, nil, err
	}
	return s.Store.SearchText(ctx, a1, a2, a3)
}

func (s *Store) SentSince(ctx context.Context, a1 int64, a2 time.Time) (int64, error) {
	if err := s.fault(); err != nil {
		return 0, err
	}
	return s.Store.SentSince(ctx, a1, a2)
}

func (s *Store) ServerSecret(ctx context.Context, a1 string, a2 []uint8) ([]uint8, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.ServerSecret(ctx, a1, a2)
}

func (s *Store) SetAccountSCRAM(ctx context.Context, a1 int64, a2 auth.SCRAMKeys) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.SetAccountSCRAM(ctx, a1, a2)
}

func (s *Store) SetAppPasswordHash(ctx context.Context, a1 int64, a2 string, a3 string) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.SetAppPasswordHash(ctx, a1, a2, a3)
}

func (s *Store) SetCampaignLinks(ctx context.Context, a1 int64, a2 []string) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.SetCampaignLinks(ctx, a1, a2)
}

func (s *Store) SetCampaignStatus(ctx context.Context, a1 int64, a2 store.CampaignStatus, a3 time.Time, a4 ...store.CampaignStatus) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.SetCampaignStatus(ctx, a1, a2, a3, a4...)
}

func (s *Store) SetPassword(ctx context.Context, a1 string, a2 string) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.SetPassword(ctx, a1, a2)
}

func (s *Store) SetQuota(ctx context.Context, a1 string, a2 int64) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.SetQuota(ctx, a1, a2)
}

func (s *Store) SetRecipientState(ctx context.Context, a1 int64, a2 store.RecipientState) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.SetRecipientState(ctx, a1, a2)
}

func (s *Store) SetRecoveryCodes(ctx context.Context, a1 int64, a2 []string) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.SetRecoveryCodes(ctx, a1, a2)
}

func (s *Store) SetSendLimits(ctx context.Context, a1 int64, a2 store.SendLimits) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.SetSendLimits(ctx, a1, a2)
}

func (s *Store) SetSubscribed(ctx context.Context, a1 int64, a2 string, a3 bool) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.SetSubscribed(ctx, a1, a2, a3)
}

func (s *Store) SetSubscriptionStatus(ctx context.Context, a1 int64, a2 int64, a3 store.SubscriptionStatus, a4 store.Consent) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.SetSubscriptionStatus(ctx, a1, a2, a3, a4)
}

func (s *Store) SetTOTP(ctx context.Context, a1 int64, a2 string, a3 bool) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.SetTOTP(ctx, a1, a2, a3)
}

func (s *Store) SetWebAdmin(ctx context.Context, a1 int64, a2 bool) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.SetWebAdmin(ctx, a1, a2)
}

func (s *Store) StreamRecipients(ctx context.Context, a1 int64, a2 int64, a3 int) ([]store.Recipient, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.StreamRecipients(ctx, a1, a2, a3)
}

func (s *Store) Subscribe(a0 int64) (<-chan store.Change, func()) {
	return s.Store.Subscribe(a0)
}

func (s *Store) SubscribeToList(ctx context.Context, a1 int64, a2 []store.SubscribeRequest) ([]store.Subscriber, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.SubscribeToList(ctx, a1, a2)
}

func (s *Store) SubscriptionsOf(ctx context.Context, a1 int64) ([]store.Subscription, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.SubscriptionsOf(ctx, a1)
}

func (s *Store) SuppressedAmong(ctx context.Context, a1 []string, a2 time.Time) (map[string]store.Suppression, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.SuppressedAmong(ctx, a1, a2)
}

func (s *Store) TouchWebSession(ctx context.Context, a1 []uint8, a2 time.Time) error {
	if err := s.fault(); err != nil {
		return err
	}
	return s.Store.TouchWebSession(ctx, a1, a2)
}

func (s *Store) UpdateCampaign(ctx context.Context, a1 store.Campaign) (store.Campaign, error) {
	if err := s.fault(); err != nil {
		return store.Campaign{}, err
	}
	return s.Store.UpdateCampaign(ctx, a1)
}

func (s *Store) UpdateFlags(ctx context.Context, a1 int64, a2 []uint32, a3 store.FlagOp, a4 []string, a5 uint64) ([]store.FlagUpdate, []uint32, error) {
	if err := s.fault(); err != nil {
		return nil, nil, err
	}
	return s.Store.UpdateFlags(ctx, a1, a2, a3, a4, a5)
}

func (s *Store) UpdateTemplate(ctx context.Context, a1 store.Template) (store.Template, error) {
	if err := s.fault(); err != nil {
		return store.Template{}, err
	}
	return s.Store.UpdateTemplate(ctx, a1)
}

func (s *Store) UseRecoveryCode(ctx context.Context, a1 int64, a2 string) (bool, error) {
	if err := s.fault(); err != nil {
		return false, err
	}
	return s.Store.UseRecoveryCode(ctx, a1, a2)
}

func (s *Store) UseTOTPStep(ctx context.Context, a1 int64, a2 int64) (bool, error) {
	if err := s.fault(); err != nil {
		return false, err
	}
	return s.Store.UseTOTPStep(ctx, a1, a2)
}

func (s *Store) WebAccount(ctx context.Context, a1 int64) (store.WebAccount, error) {
	if err := s.fault(); err != nil {
		return store.WebAccount{}, err
	}
	return s.Store.WebAccount(ctx, a1)
}

func (s *Store) WebAdmins(ctx context.Context) ([]int64, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.WebAdmins(ctx)
}

func (s *Store) WebLogins(ctx context.Context, a1 int64) ([]store.WebLogin, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.Store.WebLogins(ctx, a1)
}

func (s *Store) Greylist(ctx context.Context, a1 string, a2 time.Time, a3 time.Duration, a4 time.Duration) (bool, error) {
	if err := s.fault(); err != nil {
		return false, err
	}
	return s.greylist().Greylist(ctx, a1, a2, a3, a4)
}
