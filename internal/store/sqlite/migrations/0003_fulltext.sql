-- RFC 9051 §6.4.4: SEARCH BODY and TEXT answered from a full-text index instead of by reading
-- every message. One row per blob, so the copies of a message share it: the searchable text
-- computed at delivery (message.ExtractText), header fields in column header (TEXT only), the
-- body's text in column body.
--
-- Contentless (content=''): the text is indexed, not stored a second time; contentless_delete
-- lets the row go by rowid when the blob's last reference does. The trigram tokenizer makes a
-- phrase of three or more characters match as a substring, case-insensitively (Unicode case
-- folding), which is what SEARCH asks; shorter strings cannot use the index.
CREATE VIRTUAL TABLE message_text USING fts5 (
	header, body,
	content = '', contentless_delete = 1, tokenize = 'trigram'
);

-- The rowid of a blob's message_text row, on the blob and on each of its message rows (so a
-- search joins the index to one mailbox without going through blobs). NULL: delivered without
-- text, which is every message delivered before this migration: bodies are files, which a
-- migration does not read.
ALTER TABLE blobs ADD COLUMN text_doc INTEGER;
ALTER TABLE messages ADD COLUMN text_doc INTEGER;
CREATE INDEX messages_text ON messages (mailbox_id, text_doc);
