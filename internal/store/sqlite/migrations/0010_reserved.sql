-- Reserved: this version number is taken by another schema change.
SELECT 1;
