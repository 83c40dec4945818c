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

            pub const fn as_str(self) -> &'static str {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rag::Rag;
    use crate::domain::status::ReturnKind;
    use crate::domain::{
        AccountKind, CommitmentKind, EntryKind, EvidenceStatus, OnOverspend, OrgKind, ProgressRag, ProjectStatus, Role,
        VirementStatus, YearStatus,
    };

    /// A set's pattern accepts each of its words and nothing near one; its parser agrees.
    fn pattern_is_exactly<W: std::fmt::Debug + PartialEq>(pattern: &str, words: &[&str], parse: fn(&str) -> Option<W>) {
        let re = regex::Regex::new(pattern).unwrap();
        for word in words {
            assert!(re.is_match(word), "{pattern} refuses {word}");
            assert!(parse(word).is_some(), "{word} does not parse");
            for near in [
                format!("{word}x"),
                format!("x{word}"),
                format!(" {word}"),
                format!("{word}\n"),
                word.to_uppercase(),
                format!("{word}|{word}"),
            ] {
                assert!(!re.is_match(&near), "{pattern} accepts {near:?}");
                assert_eq!(parse(&near), None, "{near:?} parses");
            }
        }
        for other in ["", "|", "x", "unknown"] {
            assert!(!re.is_match(other), "{pattern} accepts {other:?}");
        }
    }

    #[test]
    fn each_sets_pattern_accepts_exactly_its_words() {
        pattern_is_exactly(EntryKind::PATTERN, &EntryKind::WORDS, EntryKind::parse);
        pattern_is_exactly(AccountKind::PATTERN, &AccountKind::WORDS, AccountKind::parse);
        pattern_is_exactly(CommitmentKind::PATTERN, &CommitmentKind::WORDS, CommitmentKind::parse);
        pattern_is_exactly(EvidenceStatus::PATTERN, &EvidenceStatus::WORDS, EvidenceStatus::parse);
        pattern_is_exactly(OnOverspend::PATTERN, &OnOverspend::WORDS, OnOverspend::parse);
        pattern_is_exactly(ProjectStatus::PATTERN, &ProjectStatus::WORDS, ProjectStatus::parse);
        pattern_is_exactly(YearStatus::PATTERN, &YearStatus::WORDS, YearStatus::parse);
        pattern_is_exactly(VirementStatus::PATTERN, &VirementStatus::WORDS, VirementStatus::parse);
        pattern_is_exactly(OrgKind::PATTERN, &OrgKind::WORDS, OrgKind::parse);
        pattern_is_exactly(Role::PATTERN, &Role::WORDS, Role::parse);
        pattern_is_exactly(ProgressRag::PATTERN, &ProgressRag::WORDS, ProgressRag::parse);
        pattern_is_exactly(ReturnKind::PATTERN, &ReturnKind::WORDS, ReturnKind::parse);
        pattern_is_exactly(Rag::PATTERN, &Rag::WORDS, Rag::parse);
    }

    #[test]
    fn one_list_gives_words_sql_schema_and_order() {
        assert_eq!(EntryKind::ALL.len(), 14);
        assert_eq!(EntryKind::ALL.map(EntryKind::as_str), EntryKind::WORDS);
        assert_eq!(
            EntryKind::PATTERN,
            "^(award|allocation|virement|commitment|spend|release|refund|reversal|year_end|carry_forward|receipt|repayment|\
             share|reallocation)$"
        );
        assert_eq!(EntryKind::YearEnd.sql(), "'year_end'");
        assert_eq!(sql_list(&[AccountKind::Spent, AccountKind::Carried]), "'spent', 'carried'");
        assert_eq!(AccountKind::Committed.sql_like(), "'committed:%'");
        assert!(AccountKind::Committed.names("committed:LDF:2023-24:P1"));
        assert!(!AccountKind::Committed.names("committedx:LDF:2023-24:P1"));
        assert_eq!(serde_json::to_value(EntryKind::CarryForward).unwrap(), serde_json::json!("carry_forward"));
        assert_eq!("repayment".parse::<EntryKind>(), Ok(EntryKind::Repayment));
        let err = "teleport".parse::<EntryKind>().unwrap_err();
        assert_eq!(err.to_string(), "\"teleport\" is not a known entry kind");
        // The rating's order is its severity: the worst of several is their maximum.
        assert!(Rag::Green < Rag::Amber && Rag::Amber < Rag::Red);
        let schema = serde_json::to_value(<EntryKind as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(schema["pattern"], EntryKind::PATTERN);
        assert_eq!(schema["enum"], serde_json::json!(EntryKind::WORDS));
        assert_eq!(schema["description"], "What an entry records.");
    }
}
