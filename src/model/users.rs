//! Named people who sign in to the pages: what storage reads of them and the request type
//! that adds one. The password is held only on its way to argon2; no type here prints it.

use utoipa::ToSchema;

use super::fields::{FieldError, Fields, FromFields};
#[allow(unused_imports)] // named by `#[schema(value_type = …)]`
use super::wire::{Code, NewPassword, Text};
use crate::domain::Role;

/// The shortest password accepted.
pub const PASSWORD_LEN_MIN: usize = 12;
/// The longest: argon2 takes any length, but a megabyte of password is a denial of service.
pub const PASSWORD_LEN_MAX: usize = 256;

/// A user as lists show them: never the password or its hash.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, ToSchema)]
pub struct UserInfo {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub disabled_at: Option<String>,
    #[schema(format = DateTime)]
    pub password_set_at: String,
}

/// A password on its way to argon2. Its `Debug` prints nothing of it, so a logged request
/// or error never carries it.
#[derive(Clone, Default)]
pub struct Password(pub String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

/// `POST /api/v1/users`, the admin page's add form and `user add`.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = NewUserBody)]
pub struct NewUserCmd {
    /// Letters, digits, `-` and `_`; stored case-folded.
    #[schema(value_type = Code)]
    pub username: String,
    #[schema(value_type = Text)]
    pub display_name: String,
    #[schema(value_type = crate::domain::status::GrantedRole)]
    pub role: Role,
    /// At least 12 characters, not all one character, not the username. Never shown again.
    #[schema(value_type = NewPassword)]
    pub password: Password,
}

impl FromFields for NewUserCmd {
    fn read(f: &mut Fields) -> Self {
        NewUserCmd {
            username: f.code("username"),
            display_name: f.text("display_name"),
            role: f.word("role", &Role::GRANTED_BY_ADMIN, None),
            password: Password(f.text("password")),
        }
    }
}

/// The username as stored: case-folded, so one person cannot be added twice by case.
pub fn fold(username: &str) -> String {
    username.trim().to_lowercase()
}

/// Why a password is refused, if it is: the rules of docs/api.md, "Users and sessions".
pub fn password_problem(username: &str, password: &str) -> Option<String> {
    let chars = password.chars().count();
    if chars < PASSWORD_LEN_MIN {
        return Some(format!("must be at least {PASSWORD_LEN_MIN} characters"));
    }
    if chars > PASSWORD_LEN_MAX {
        return Some(format!("must be at most {PASSWORD_LEN_MAX} characters"));
    }
    let mut all = password.chars();
    let first = all.next();
    if all.all(|c| Some(c) == first) {
        return Some("must not be one character repeated".into());
    }
    if fold(password) == fold(username) {
        return Some("must not be the username".into());
    }
    None
}

/// A refusal naming `password`, for the callers that read fields.
pub fn password_refused(message: String) -> Vec<FieldError> {
    super::fields::refused("password", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_are_refused_and_a_fair_one_is_not() {
        assert!(password_problem("alice", "short").unwrap().contains("12"));
        assert!(password_problem("alice", "aaaaaaaaaaaaaaaa").unwrap().contains("repeated"));
        assert!(password_problem("alicealicealice", "AliceAliceAlice").unwrap().contains("username"));
        assert_eq!(password_problem("alice", "correct horse battery"), None);
    }

    #[test]
    fn a_password_never_shows_in_debug() {
        let cmd = NewUserCmd {
            username: "alice".into(),
            display_name: "Alice".into(),
            role: Role::Viewer,
            password: Password("correct horse battery".into()),
        };
        assert!(!format!("{cmd:?}").contains("horse"));
    }
}
