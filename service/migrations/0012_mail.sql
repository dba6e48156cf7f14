-- Reserved for issue work in progress; filled by its change.
select 1;
