//! Cross-site request forgery. Every form a page renders carries a hidden `csrf_token`
//! (`hidden_input`), and every POST to a page route is checked here (`verify`, or the
//! extractors `CsrfForm` and `SignInForm`) before anything else is read or counted; a post
//! that fails is answered 403 with a page saying so, and changes nothing.
//!
//! The token is bound to a secret cookie of this browser that another site can neither read
//! nor write: the session cookie once signed in (`Bound::Session`), and for the sign-in form
//! the pre-session cookie `GET /sign-in` sets (`Bound::SignIn`). It is the SHA-256 of a fixed
//! label, the binding and that secret: another site's page can make the browser send its
//! cookies, but cannot know the token. Nothing is stored; a token lives as long as its cookie,
//! and a new session (each sign-in) makes the old token stale. Compared in constant time.
//!
//! The browser's `Origin` is checked too, against the configured public URL (never the
//! request's own `Host`): a post from another origin is refused whatever it carries. A
//! browser may send `Origin: null` (a page with `Referrer-Policy: no-referrer`, a sandboxed
//! frame); then, as when there is no `Origin`, the token alone decides.

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::errors;
use crate::http::AppState;
use crate::http::public_url::PublicUrl;

/// The form field every page form carries.
pub const FIELD: &str = "csrf_token";

/// The cookie `GET /sign-in` sets, to which the sign-in form's token is bound.
pub const SIGN_IN_COOKIE: &str = "gl_sign_in";

/// What a token is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// The session cookie: every form of a signed-in page.
    Session,
    /// The pre-session cookie: the sign-in form.
    SignIn,
}

impl Bound {
    fn cookie(self) -> &'static str {
        match self {
            Bound::Session => super::COOKIE,
            Bound::SignIn => SIGN_IN_COOKIE,
        }
    }

    fn label(self) -> &'static [u8] {
        match self {
            Bound::Session => b"grant-ledger form token\0session\0",
            Bound::SignIn => b"grant-ledger form token\0sign-in\0",
        }
    }
}

/// The token of forms bound to the cookie holding `cookie_secret`.
pub fn token(bound: Bound, cookie_secret: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(bound.label());
    hash.update(cookie_secret.as_bytes());
    hex::encode(hash.finalize())
}

/// The hidden field to put inside every `<form method="post">`.
pub fn hidden_input(token: &str) -> maud::Markup {
    maud::html! { input type="hidden" name=(FIELD) value=(token); }
}

/// Why a post was refused; its answer is a 403 page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// `Origin` names another origin than the public URL.
    OtherOrigin,
    /// No token, a wrong or stale one, or no cookie to bind it to.
    NoValidToken,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let why = match self {
            Refused::OtherOrigin => "This form was sent from another site, not from this ledger's own page.",
            Refused::NoValidToken => {
                "This form did not come from this ledger's own page in this browser, or it is out of date: \
                 a form is good until you sign in or out."
            }
        };
        errors::page(
            StatusCode::FORBIDDEN,
            "This form was not accepted",
            &[why.to_owned(), "Nothing was changed. Open the page again and send the form from there.".to_owned()],
        )
    }
}

/// Checks a post's `Origin` against the public URL and its `submitted` token against the
/// one bound to this browser's cookie.
pub fn verify(
    headers: &HeaderMap,
    public_url: &PublicUrl,
    bound: Bound,
    submitted: Option<&str>,
) -> Result<(), Refused> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        if origin != "null" && !public_url.allows(origin) {
            tracing::warn!(
                origin,
                public_url = public_url.origin(),
                "a page form was posted from another origin and refused; if people reach the ledger at that \
                 address, set --public-url to it"
            );
            return Err(Refused::OtherOrigin);
        }
    }
    let secret = super::cookie(headers, bound.cookie()).ok_or(Refused::NoValidToken)?;
    let expected = token(bound, &secret);
    let submitted = submitted.ok_or(Refused::NoValidToken)?;
    if bool::from(expected.as_bytes().ct_eq(submitted.as_bytes())) { Ok(()) } else { Err(Refused::NoValidToken) }
}

/// A posted form's fields, in order, the token taken out, and the token it was checked
/// with, for showing the form again.
#[derive(Debug, Default)]
pub struct FormFields {
    pairs: Vec<(String, String)>,
    token: String,
}

impl FormFields {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The form's valid token, to render the form again with.
    pub fn token(&self) -> &str {
        &self.token
    }
}

/// Reads an urlencoded form and checks it. A body that is not a form has no token, so it
/// is refused as one without.
async fn read_checked(req: Request, state: &AppState, bound: Bound) -> Result<FormFields, Refused> {
    let headers = req.headers().clone();
    let pairs = match axum::Form::<Vec<(String, String)>>::from_request(req, state).await {
        Ok(axum::Form(pairs)) => pairs,
        Err(_) => Vec::new(),
    };
    let mut tokens = pairs.iter().filter(|(k, _)| k == FIELD).map(|(_, v)| v.as_str());
    // Exactly one: two tokens are no token.
    let submitted = match (tokens.next(), tokens.next()) {
        (Some(t), None) => Some(t),
        _ => None,
    };
    verify(&headers, &state.public_url, bound, submitted)?;
    let token = submitted.unwrap_or_default().to_owned();
    Ok(FormFields { pairs: pairs.into_iter().filter(|(k, _)| k != FIELD).collect(), token })
}

/// A form posted by a signed-in page, checked against the session: the extractor every page
/// form uses. (A handler that parses its own body, such as a file upload, calls `verify`.)
pub struct CsrfForm(pub FormFields);

impl FromRequest<AppState> for CsrfForm {
    type Rejection = Refused;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        read_checked(req, state, Bound::Session).await.map(CsrfForm)
    }
}

/// The sign-in form, checked against the pre-session cookie.
pub struct SignInForm(pub FormFields);

impl FromRequest<AppState> for SignInForm {
    type Rejection = Refused;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        read_checked(req, state, Bound::SignIn).await.map(SignInForm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(cookie: Option<&str>, origin: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(c) = cookie {
            h.insert(header::COOKIE, HeaderValue::from_str(c).unwrap());
        }
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn a_token_holds_only_for_its_own_cookie_and_binding() {
        let url = PublicUrl::parse("https://ledger.example.org").unwrap();
        let good = token(Bound::Session, "s3cret");
        assert_eq!(good.len(), 64);
        let h = headers(Some("gl_session=s3cret"), Some("https://ledger.example.org"));
        assert_eq!(verify(&h, &url, Bound::Session, Some(&good)), Ok(()));
        assert_eq!(verify(&h, &url, Bound::Session, None), Err(Refused::NoValidToken));
        assert_eq!(verify(&h, &url, Bound::Session, Some("")), Err(Refused::NoValidToken));
        assert_eq!(verify(&h, &url, Bound::Session, Some(&good[1..])), Err(Refused::NoValidToken));
        let other = token(Bound::Session, "another");
        assert_eq!(verify(&h, &url, Bound::Session, Some(&other)), Err(Refused::NoValidToken), "another cookie's");
        let sign_in = token(Bound::SignIn, "s3cret");
        assert_ne!(sign_in, good, "the binding is part of the token");
        assert_eq!(
            verify(&h, &url, Bound::SignIn, Some(&sign_in)),
            Err(Refused::NoValidToken),
            "no pre-session cookie"
        );
        let h = headers(Some("gl_sign_in=s3cret"), None);
        assert_eq!(verify(&h, &url, Bound::SignIn, Some(&sign_in)), Ok(()));
        assert_eq!(verify(&headers(None, None), &url, Bound::Session, Some(&good)), Err(Refused::NoValidToken));
    }

    #[test]
    fn origin_is_judged_against_the_public_url_and_null_falls_to_the_token() {
        let url = PublicUrl::parse("https://ledger.example.org").unwrap();
        let good = token(Bound::Session, "s3cret");
        for (origin, expected) in [
            (Some("https://ledger.example.org"), Ok(())),
            (Some("null"), Ok(())),
            (None, Ok(())),
            (Some("https://evil.example"), Err(Refused::OtherOrigin)),
            (Some("http://ledger.example.org"), Err(Refused::OtherOrigin)),
            (Some("https://ledger.example.org.evil.example"), Err(Refused::OtherOrigin)),
        ] {
            let h = headers(Some("gl_session=s3cret"), origin);
            assert_eq!(verify(&h, &url, Bound::Session, Some(&good)), expected, "{origin:?}");
        }
        // A foreign origin is refused even with a good token; null is no excuse for a bad one.
        let h = headers(Some("gl_session=s3cret"), Some("null"));
        assert_eq!(verify(&h, &url, Bound::Session, Some("0".repeat(64).as_str())), Err(Refused::NoValidToken));
    }
}
