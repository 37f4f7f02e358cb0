//! The tables the support tool's inspector reads (`support-web.md` §2.6), as Django creates them
//! from Open edX's models (`tests/django`: social-auth-app-django's `UserSocialAuth`, the support
//! app's history of it, edx-organizations' `Organization`, third-party-auth's
//! `SAMLProviderConfig` with its non-null columns, and `django.contrib.sites`' `Site`, which a
//! provider belongs to), with the first migration's conventions (our own short constraint and
//! index names, everything else Django's). The linking never reads or writes them.
//!
//! Name prefixes: `site` `django_site`, `org` `organizations_organization`, `usa`
//! `social_auth_usersocialauth`, `husa` `support_historicalusersocialauth`, `saml`
//! `third_party_auth_samlproviderconfig`.

use sea_orm_migration::prelude::*;

/// Creates the inspector's tables; `down` drops them again.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20260401_000004_create_inspector_tables"
    }
}

/// The tables of this migration, children after their parents.
const TABLES: [&str; 5] = [
    "django_site",
    "organizations_organization",
    "social_auth_usersocialauth",
    "support_historicalusersocialauth",
    "third_party_auth_samlproviderconfig",
];

const SQLITE: [&str; 16] = [
    r#"CREATE TABLE IF NOT EXISTS "django_site" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(50) NOT NULL, "domain" varchar(100) NOT NULL UNIQUE)"#,
    r#"CREATE TABLE IF NOT EXISTS "organizations_organization" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "created" datetime NOT NULL, "modified" datetime NOT NULL, "name" varchar(255) NOT NULL, "short_name" varchar(255) NOT NULL UNIQUE, "description" text NULL, "logo" varchar(255) NULL, "active" bool NOT NULL)"#,
    r#"CREATE INDEX IF NOT EXISTS "org_name_idx" ON "organizations_organization" ("name")"#,
    r#"CREATE TABLE IF NOT EXISTS "social_auth_usersocialauth" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "provider" varchar(32) NOT NULL, "uid" varchar(255) NOT NULL, "extra_data" text NOT NULL CHECK ((JSON_VALID("extra_data") OR "extra_data" IS NULL)), "created" datetime NOT NULL, "modified" datetime NOT NULL, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE UNIQUE INDEX IF NOT EXISTS "usa_provider_uid_uniq" ON "social_auth_usersocialauth" ("provider", "uid")"#,
    r#"CREATE INDEX IF NOT EXISTS "usa_uid_idx" ON "social_auth_usersocialauth" ("uid")"#,
    r#"CREATE INDEX IF NOT EXISTS "usa_user_id_idx" ON "social_auth_usersocialauth" ("user_id")"#,
    r#"CREATE TABLE IF NOT EXISTS "support_historicalusersocialauth" ("id" bigint NOT NULL, "provider" varchar(32) NOT NULL, "uid" varchar(255) NOT NULL, "extra_data" text NOT NULL CHECK ((JSON_VALID("extra_data") OR "extra_data" IS NULL)), "created" datetime NOT NULL, "modified" datetime NOT NULL, "history_id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "history_date" datetime NOT NULL, "history_change_reason" varchar(100) NULL, "history_type" varchar(1) NOT NULL, "history_user_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "user_id" integer NULL)"#,
    r#"CREATE INDEX IF NOT EXISTS "husa_id_idx" ON "support_historicalusersocialauth" ("id")"#,
    r#"CREATE INDEX IF NOT EXISTS "husa_uid_idx" ON "support_historicalusersocialauth" ("uid")"#,
    r#"CREATE INDEX IF NOT EXISTS "husa_history_user_id_idx" ON "support_historicalusersocialauth" ("history_user_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "husa_user_id_idx" ON "support_historicalusersocialauth" ("user_id")"#,
    r#"CREATE TABLE IF NOT EXISTS "third_party_auth_samlproviderconfig" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "change_date" datetime NOT NULL, "enabled" bool NOT NULL, "icon_class" varchar(50) NOT NULL, "icon_image" varchar(100) NOT NULL, "name" varchar(50) NOT NULL, "slug" varchar(30) NOT NULL, "secondary" bool NOT NULL, "skip_hinted_login_dialog" bool NOT NULL, "skip_registration_form" bool NOT NULL, "skip_email_verification" bool NOT NULL, "send_welcome_email" bool NOT NULL, "visible" bool NOT NULL, "send_to_registration_first" bool NOT NULL, "sync_learner_profile_data" bool NOT NULL, "enable_sso_id_verification" bool NOT NULL, "disable_for_enterprise_sso" bool NOT NULL, "display_name" varchar(35) NOT NULL, "backend_name" varchar(50) NOT NULL, "entity_id" varchar(255) NOT NULL, "metadata_source" varchar(255) NOT NULL, "attr_user_permanent_id" varchar(128) NOT NULL, "attr_full_name" varchar(128) NOT NULL, "default_full_name" varchar(255) NOT NULL, "attr_first_name" varchar(128) NOT NULL, "default_first_name" varchar(255) NOT NULL, "attr_last_name" varchar(128) NOT NULL, "default_last_name" varchar(255) NOT NULL, "attr_username" varchar(128) NOT NULL, "default_username" varchar(255) NOT NULL, "attr_email" varchar(128) NOT NULL, "default_email" varchar(255) NOT NULL, "automatic_refresh_enabled" bool NOT NULL, "identity_provider_type" varchar(128) NOT NULL, "debug_mode" bool NOT NULL, "country" varchar(128) NOT NULL, "other_settings" text NOT NULL, "archived" bool NOT NULL, "organization_id" integer NULL REFERENCES "organizations_organization" ("id") DEFERRABLE INITIALLY DEFERRED, "site_id" integer NOT NULL REFERENCES "django_site" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE INDEX IF NOT EXISTS "saml_slug_idx" ON "third_party_auth_samlproviderconfig" ("slug")"#,
    r#"CREATE INDEX IF NOT EXISTS "saml_organization_id_idx" ON "third_party_auth_samlproviderconfig" ("organization_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "saml_site_id_idx" ON "third_party_auth_samlproviderconfig" ("site_id")"#,
];

const POSTGRES: [&str; 21] = [
    r#"CREATE TABLE IF NOT EXISTS "django_site" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "domain" varchar(100) NOT NULL, "name" varchar(50) NOT NULL, CONSTRAINT "site_domain_uniq" UNIQUE ("domain"))"#,
    r#"CREATE INDEX IF NOT EXISTS "site_domain_like" ON "django_site" ("domain" varchar_pattern_ops)"#,
    r#"CREATE TABLE IF NOT EXISTS "organizations_organization" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "created" timestamp with time zone NOT NULL, "modified" timestamp with time zone NOT NULL, "name" varchar(255) NOT NULL, "short_name" varchar(255) NOT NULL, "description" text NULL, "logo" varchar(255) NULL, "active" boolean NOT NULL, CONSTRAINT "org_short_name_uniq" UNIQUE ("short_name"))"#,
    r#"CREATE INDEX IF NOT EXISTS "org_name_idx" ON "organizations_organization" ("name")"#,
    r#"CREATE INDEX IF NOT EXISTS "org_name_like" ON "organizations_organization" ("name" varchar_pattern_ops)"#,
    r#"CREATE INDEX IF NOT EXISTS "org_short_name_like" ON "organizations_organization" ("short_name" varchar_pattern_ops)"#,
    r#"CREATE TABLE IF NOT EXISTS "social_auth_usersocialauth" ("id" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "provider" varchar(32) NOT NULL, "uid" varchar(255) NOT NULL, "extra_data" jsonb NOT NULL, "created" timestamp with time zone NOT NULL, "modified" timestamp with time zone NOT NULL, "user_id" integer NOT NULL, CONSTRAINT "usa_provider_uid_uniq" UNIQUE ("provider", "uid"), CONSTRAINT "usa_user_fk" FOREIGN KEY ("user_id") REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE INDEX IF NOT EXISTS "usa_uid_idx" ON "social_auth_usersocialauth" ("uid")"#,
    r#"CREATE INDEX IF NOT EXISTS "usa_uid_like" ON "social_auth_usersocialauth" ("uid" varchar_pattern_ops)"#,
    r#"CREATE INDEX IF NOT EXISTS "usa_user_id_idx" ON "social_auth_usersocialauth" ("user_id")"#,
    r#"CREATE TABLE IF NOT EXISTS "support_historicalusersocialauth" ("id" bigint NOT NULL, "provider" varchar(32) NOT NULL, "uid" varchar(255) NOT NULL, "extra_data" jsonb NOT NULL, "created" timestamp with time zone NOT NULL, "modified" timestamp with time zone NOT NULL, "history_id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "history_date" timestamp with time zone NOT NULL, "history_change_reason" varchar(100) NULL, "history_type" varchar(1) NOT NULL, "history_user_id" integer NULL, "user_id" integer NULL, CONSTRAINT "husa_history_user_fk" FOREIGN KEY ("history_user_id") REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE INDEX IF NOT EXISTS "husa_history_user_id_idx" ON "support_historicalusersocialauth" ("history_user_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "husa_id_idx" ON "support_historicalusersocialauth" ("id")"#,
    r#"CREATE INDEX IF NOT EXISTS "husa_uid_idx" ON "support_historicalusersocialauth" ("uid")"#,
    r#"CREATE INDEX IF NOT EXISTS "husa_uid_like" ON "support_historicalusersocialauth" ("uid" varchar_pattern_ops)"#,
    r#"CREATE INDEX IF NOT EXISTS "husa_user_id_idx" ON "support_historicalusersocialauth" ("user_id")"#,
    r#"CREATE TABLE IF NOT EXISTS "third_party_auth_samlproviderconfig" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "change_date" timestamp with time zone NOT NULL, "enabled" boolean NOT NULL, "icon_class" varchar(50) NOT NULL, "icon_image" varchar(100) NOT NULL, "name" varchar(50) NOT NULL, "slug" varchar(30) NOT NULL, "secondary" boolean NOT NULL, "skip_hinted_login_dialog" boolean NOT NULL, "skip_registration_form" boolean NOT NULL, "skip_email_verification" boolean NOT NULL, "send_welcome_email" boolean NOT NULL, "visible" boolean NOT NULL, "send_to_registration_first" boolean NOT NULL, "sync_learner_profile_data" boolean NOT NULL, "enable_sso_id_verification" boolean NOT NULL, "disable_for_enterprise_sso" boolean NOT NULL, "display_name" varchar(35) NOT NULL, "backend_name" varchar(50) NOT NULL, "entity_id" varchar(255) NOT NULL, "metadata_source" varchar(255) NOT NULL, "attr_user_permanent_id" varchar(128) NOT NULL, "attr_full_name" varchar(128) NOT NULL, "default_full_name" varchar(255) NOT NULL, "attr_first_name" varchar(128) NOT NULL, "default_first_name" varchar(255) NOT NULL, "attr_last_name" varchar(128) NOT NULL, "default_last_name" varchar(255) NOT NULL, "attr_username" varchar(128) NOT NULL, "default_username" varchar(255) NOT NULL, "attr_email" varchar(128) NOT NULL, "default_email" varchar(255) NOT NULL, "automatic_refresh_enabled" boolean NOT NULL, "identity_provider_type" varchar(128) NOT NULL, "debug_mode" boolean NOT NULL, "country" varchar(128) NOT NULL, "other_settings" text NOT NULL, "archived" boolean NOT NULL, "organization_id" integer NULL, "site_id" integer NOT NULL, CONSTRAINT "saml_organization_fk" FOREIGN KEY ("organization_id") REFERENCES "organizations_organization" ("id") DEFERRABLE INITIALLY DEFERRED, CONSTRAINT "saml_site_fk" FOREIGN KEY ("site_id") REFERENCES "django_site" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE INDEX IF NOT EXISTS "saml_organization_id_idx" ON "third_party_auth_samlproviderconfig" ("organization_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "saml_site_id_idx" ON "third_party_auth_samlproviderconfig" ("site_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "saml_slug_idx" ON "third_party_auth_samlproviderconfig" ("slug")"#,
    r#"CREATE INDEX IF NOT EXISTS "saml_slug_like" ON "third_party_auth_samlproviderconfig" ("slug" varchar_pattern_ops)"#,
];

const MYSQL: [&str; 5] = [
    "CREATE TABLE IF NOT EXISTS `django_site` (`id` int(11) NOT NULL AUTO_INCREMENT, `domain` varchar(100) NOT NULL, `name` varchar(50) NOT NULL, PRIMARY KEY (`id`), UNIQUE KEY `site_domain_uniq` (`domain`))",
    "CREATE TABLE IF NOT EXISTS `organizations_organization` (`id` int(11) NOT NULL AUTO_INCREMENT, `created` datetime(6) NOT NULL, `modified` datetime(6) NOT NULL, `name` varchar(255) NOT NULL, `short_name` varchar(255) NOT NULL, `description` longtext DEFAULT NULL, `logo` varchar(255) DEFAULT NULL, `active` tinyint(1) NOT NULL, PRIMARY KEY (`id`), UNIQUE KEY `org_short_name_uniq` (`short_name`), KEY `org_name_idx` (`name`))",
    "CREATE TABLE IF NOT EXISTS `social_auth_usersocialauth` (`id` bigint(20) NOT NULL AUTO_INCREMENT, `provider` varchar(32) NOT NULL, `uid` varchar(255) NOT NULL, `extra_data` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`extra_data`)), `created` datetime(6) NOT NULL, `modified` datetime(6) NOT NULL, `user_id` int(11) NOT NULL, PRIMARY KEY (`id`), UNIQUE KEY `usa_provider_uid_uniq` (`provider`, `uid`), KEY `usa_user_fk` (`user_id`), KEY `usa_uid_idx` (`uid`), CONSTRAINT `usa_user_fk` FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`))",
    "CREATE TABLE IF NOT EXISTS `support_historicalusersocialauth` (`id` bigint(20) NOT NULL, `provider` varchar(32) NOT NULL, `uid` varchar(255) NOT NULL, `extra_data` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(`extra_data`)), `created` datetime(6) NOT NULL, `modified` datetime(6) NOT NULL, `history_id` int(11) NOT NULL AUTO_INCREMENT, `history_date` datetime(6) NOT NULL, `history_change_reason` varchar(100) DEFAULT NULL, `history_type` varchar(1) NOT NULL, `history_user_id` int(11) DEFAULT NULL, `user_id` int(11) DEFAULT NULL, PRIMARY KEY (`history_id`), KEY `husa_history_user_fk` (`history_user_id`), KEY `husa_id_idx` (`id`), KEY `husa_uid_idx` (`uid`), KEY `husa_user_id_idx` (`user_id`), CONSTRAINT `husa_history_user_fk` FOREIGN KEY (`history_user_id`) REFERENCES `auth_user` (`id`))",
    "CREATE TABLE IF NOT EXISTS `third_party_auth_samlproviderconfig` (`id` int(11) NOT NULL AUTO_INCREMENT, `change_date` datetime(6) NOT NULL, `enabled` tinyint(1) NOT NULL, `icon_class` varchar(50) NOT NULL, `icon_image` varchar(100) NOT NULL, `name` varchar(50) NOT NULL, `slug` varchar(30) NOT NULL, `secondary` tinyint(1) NOT NULL, `skip_hinted_login_dialog` tinyint(1) NOT NULL, `skip_registration_form` tinyint(1) NOT NULL, `skip_email_verification` tinyint(1) NOT NULL, `send_welcome_email` tinyint(1) NOT NULL, `visible` tinyint(1) NOT NULL, `send_to_registration_first` tinyint(1) NOT NULL, `sync_learner_profile_data` tinyint(1) NOT NULL, `enable_sso_id_verification` tinyint(1) NOT NULL, `disable_for_enterprise_sso` tinyint(1) NOT NULL, `display_name` varchar(35) NOT NULL, `backend_name` varchar(50) NOT NULL, `entity_id` varchar(255) NOT NULL, `metadata_source` varchar(255) NOT NULL, `attr_user_permanent_id` varchar(128) NOT NULL, `attr_full_name` varchar(128) NOT NULL, `default_full_name` varchar(255) NOT NULL, `attr_first_name` varchar(128) NOT NULL, `default_first_name` varchar(255) NOT NULL, `attr_last_name` varchar(128) NOT NULL, `default_last_name` varchar(255) NOT NULL, `attr_username` varchar(128) NOT NULL, `default_username` varchar(255) NOT NULL, `attr_email` varchar(128) NOT NULL, `default_email` varchar(255) NOT NULL, `automatic_refresh_enabled` tinyint(1) NOT NULL, `identity_provider_type` varchar(128) NOT NULL, `debug_mode` tinyint(1) NOT NULL, `country` varchar(128) NOT NULL, `other_settings` longtext NOT NULL, `archived` tinyint(1) NOT NULL, `organization_id` int(11) DEFAULT NULL, `site_id` int(11) NOT NULL, PRIMARY KEY (`id`), KEY `saml_organization_fk` (`organization_id`), KEY `saml_site_fk` (`site_id`), KEY `saml_slug_idx` (`slug`), CONSTRAINT `saml_organization_fk` FOREIGN KEY (`organization_id`) REFERENCES `organizations_organization` (`id`), CONSTRAINT `saml_site_fk` FOREIGN KEY (`site_id`) REFERENCES `django_site` (`id`))",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::ddl::create(manager, &SQLITE, &POSTGRES, &MYSQL).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::ddl::drop(manager, &TABLES).await
    }
}
