-- The language a member reads Candor's mail in (service.mail composes each message in
-- its recipient's language). Null: not known yet, the organisation's default applies.
-- Identity-side data about the member, nothing about any answer.
--
-- `language_chosen` tells the member's own choice (the language switcher, signed in)
-- from a language Candor inferred (the browser's at sign-in, the directory's SCIM
-- preferredLanguage): sign-in only fills a language that is still unknown, the directory
-- may correct an inferred one, and neither overrides what the member chose.
alter table accounts
    add column language text
        constraint accounts_language_supported check (language in ('en', 'de')),
    add column language_chosen boolean not null default false;

-- The directory's preferredLanguage exactly as it sent it (a SCIM read returns what was
-- written), whatever it is; the account's language is derived from it when supported.
alter table scim_users add column preferred_language text;

-- A message is written in its recipient's language when it is queued; the sender gives
-- it that Content-Language.
alter table mail_outbox
    add column language text not null default 'en'
        constraint mail_outbox_language_supported check (language in ('en', 'de'));
