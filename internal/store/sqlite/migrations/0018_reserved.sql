-- Reserved: version 0018 belongs to work merged beside the import ledger (0020); this file
-- goes when that work comes in.
SELECT 1;
