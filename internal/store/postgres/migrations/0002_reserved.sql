-- Reserved for the mail store's own schema changes; intentionally empty, so that the versions
-- run without gap.
SELECT 1;
