//! The contract suite on PostgreSQL and MariaDB from our migrations, and on SQLite, PostgreSQL
//! and MariaDB from Django's own schema. Each test creates its own database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod postgres {
    acceptance::contract_suite!(acceptance::SeaTestDatabase::create(acceptance::Target::Postgres));
}

mod mysql {
    acceptance::contract_suite!(acceptance::SeaTestDatabase::create(acceptance::Target::MySql));
}

mod django_sqlite {
    acceptance::contract_suite!(acceptance::SeaTestDatabase::create(acceptance::Target::DjangoSqlite));
}

mod django_postgres {
    acceptance::contract_suite!(acceptance::SeaTestDatabase::create(acceptance::Target::DjangoPostgres));
}

mod django_mysql {
    acceptance::contract_suite!(acceptance::SeaTestDatabase::create(acceptance::Target::DjangoMySql));
}

mod django_mysql_uuid {
    acceptance::contract_suite!(acceptance::SeaTestDatabase::create(acceptance::Target::DjangoMySqlUuid));
}
