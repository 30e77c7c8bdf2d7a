//! Organisations, users, their roles and API tokens.

use std::fmt;
use std::str::FromStr;

use super::{Result, Store, begin, now_ms, with_reader, with_writer};

/// What a user may see and do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Owner,
    Admin,
    Partner,
    SalesRep,
    Member,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Owner,
        Role::Admin,
        Role::Partner,
        Role::SalesRep,
        Role::Member,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Partner => "partner",
            Role::SalesRep => "sales-rep",
            Role::Member => "member",
        }
    }

    /// Owners and admins see and manage the whole organisation.
    pub fn sees_whole_org(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == wanted)
            .ok_or_else(|| {
                format!("unknown role {s:?}: expected owner, admin, partner, sales-rep or member")
            })
    }
}

/// A signed-in caller.
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub org_id: i64,
    pub email: String,
    pub role: Role,
    pub partner_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    org_id: i64,
    email: String,
    role: String,
    partner_id: Option<i64>,
}

impl TryFrom<UserRow> for User {
    type Error = super::Error;

    fn try_from(row: UserRow) -> Result<User> {
        let role = row.role.parse().map_err(super::Error::Conflict)?;
        Ok(User {
            id: row.id,
            org_id: row.org_id,
            email: row.email,
            role,
            partner_id: row.partner_id,
        })
    }
}

const USER_COLUMNS: &str = "id, org_id, email, role, partner_id";

impl Store {
    /// Finds or creates the organisation called `name`.
    pub async fn ensure_org(&self, name: &str) -> Result<i64> {
        const INSERT: &str = "INSERT INTO organisations (name, created_at) VALUES ($1, $2)
            ON CONFLICT (name) DO NOTHING";
        const SELECT: &str = "SELECT id FROM organisations WHERE name = $1";
        with_writer!(self, |pool| {
            sqlx::query(INSERT)
                .bind(name)
                .bind(now_ms())
                .execute(pool)
                .await?;
            Ok(sqlx::query_scalar(SELECT)
                .bind(name)
                .fetch_one(pool)
                .await?)
        })
    }

    /// The id of the organisation called `name`.
    pub async fn org_by_name(&self, name: &str) -> Result<i64> {
        const SELECT: &str = "SELECT id FROM organisations WHERE name = $1";
        with_reader!(self, |pool| {
            Ok(sqlx::query_scalar(SELECT)
                .bind(name)
                .fetch_one(pool)
                .await?)
        })
    }

    /// Adds a user, or updates the role and partner of an existing one, and gives it a
    /// new API token (stored as a hash).
    pub async fn upsert_user(
        &self,
        org_id: i64,
        email: &str,
        role: Role,
        partner_id: Option<i64>,
        token_hash: &str,
    ) -> Result<User> {
        const UPSERT: &str = "INSERT INTO users
                (org_id, email, role, partner_id, api_token_hash, created_at)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (org_id, email) DO UPDATE
            SET role = excluded.role, partner_id = excluded.partner_id,
                api_token_hash = excluded.api_token_hash";
        let email = email.trim().to_ascii_lowercase();
        with_writer!(self, |pool| {
            let mut tx = begin!(pool).await?;
            sqlx::query(UPSERT)
                .bind(org_id)
                .bind(&email)
                .bind(role.as_str())
                .bind(partner_id)
                .bind(token_hash)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND email = $2");
            let row: UserRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(org_id)
                .bind(&email)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            row.try_into()
        })
    }

    /// The user of an organisation with this email.
    pub async fn user_by_email(&self, org_id: i64, email: &str) -> Result<User> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND email = $2");
        let email = email.trim().to_ascii_lowercase();
        let row: UserRow = with_reader!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(org_id)
                .bind(email)
                .fetch_one(pool)
                .await
        })?;
        row.try_into()
    }

    /// One user by id.
    pub async fn user_by_id(&self, id: i64) -> Result<User> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row: UserRow = with_reader!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_one(pool)
                .await
        })?;
        row.try_into()
    }

    /// The user holding the API token with this hash.
    pub async fn user_by_token_hash(&self, token_hash: &str) -> Result<User> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE api_token_hash = $1");
        let row: UserRow = with_reader!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(token_hash)
                .fetch_one(pool)
                .await
        })?;
        row.try_into()
    }
}
