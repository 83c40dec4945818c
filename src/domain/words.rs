//! Closed sets of words: every word the ledger stores or the API accepts from a fixed list
//! (entry and account kinds, statuses, roles, ...) is declared once, with `word_set!`.
//!
//! From that one list come the enum, its words (`ALL`, `WORDS`, `as_str`), the parser
//! (`parse`, `TryFrom<String>`, `FromStr`), the OpenAPI schema (a string with the words as its
//! `enum` and `PATTERN` as its pattern) and what SQL splices in (`sql`). Each is stored and
//! shown as its word; a stored word outside the set is refused, never read as some default,
//! so a tampered or mistyped row cannot quietly change what a rule does. Code that must
//! handle every member matches on the enum with no catch-all arm, so adding a member is a
//! compile error there.

/// A stored word that names no member of its set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a known {what}")]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
}

/// Declares a closed set: `word_set!(/// doc, Name, "what it is", { Variant => "word", ... })`.
/// The doc comment is the OpenAPI schema's description too.
macro_rules! word_set {
    (
        $(#[doc = $doc:literal])+
        $name:ident, $what:literal, {
            $(#[$first_meta:meta])* $first:ident => $first_word:literal
            $(, $(#[$meta:meta])* $variant:ident => $word:literal)* $(,)?
        }
    ) => {
        $(#[doc = $doc])+
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
        pub enum $name {
            $(#[$first_meta])*
            #[serde(rename = $first_word)]
            $first,
            $($(#[$meta])* #[serde(rename = $word)] $variant),*
        }

        impl $name {
            /// Every member, in declaration order.
            pub const ALL: [$name; [$first_word $(, $word)*].len()] = [$name::$first $(, $name::$variant)*];

            /// Every member's word, in declaration order.
            pub const WORDS: [&'static str; [$first_word $(, $word)*].len()] = [$first_word $(, $word)*];

            /// The OpenAPI pattern: exactly the set's words.
            pub const PATTERN: &'static str = concat!("^(", $first_word $(, "|", $word)*, ")$");

            /// What a member of the set is, as a refusal names it.
            pub const WHAT: &'static str = $what;

            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $first_word => Some($name::$first),
                    $($word => Some($name::$variant),)*
                    _ => None,
                }
            }

            pub fn as_str(self) -> &'static str {
                match self {
                    $name::$first => $first_word,
                    $($name::$variant => $word,)*
                }
            }

            /// The word as an SQL string literal, `'word'`, to splice into a query: a word
            /// is lowercase letters, `_` and `-`, so it needs no escaping.
            pub fn sql(self) -> &'static str {
                match self {
                    $name::$first => concat!("'", $first_word, "'"),
                    $($name::$variant => concat!("'", $word, "'"),)*
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::domain::words::UnknownValue;
            fn try_from(value: String) -> Result<$name, $crate::domain::words::UnknownValue> {
                $name::parse(&value).ok_or($crate::domain::words::UnknownValue { what: $what, value })
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::words::UnknownValue;
            fn from_str(text: &str) -> Result<$name, $crate::domain::words::UnknownValue> {
                $name::try_from(text.to_owned())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::domain::words::Word for $name {
            fn sql(self) -> &'static str {
                $name::sql(self)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let description: Vec<&str> = [$($doc),*].iter().map(|line| line.trim()).collect();
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some($name::WORDS))
                    .pattern(Some($name::PATTERN))
                    .description(Some(description.join(" ")))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }
    };
}
pub(crate) use word_set;

/// A member of a closed set.
pub trait Word: Copy {
    /// The word as an SQL string literal.
    fn sql(self) -> &'static str;
}

/// `'a', 'b'`: words as an SQL list, for `kind in (...)`.
pub fn sql_list<W: Word>(members: &[W]) -> String {
    members.iter().map(|m| m.sql()).collect::<Vec<_>>().join(", ")
}
