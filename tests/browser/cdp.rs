//! A small Chrome DevTools Protocol driver for the browser tests: launches the system
//! Chromium headless with a fresh profile, and drives pages the way a person does: open a
//! page, click, type into a field, press Enter, follow what the server answers, read what
//! the page shows, take a screenshot.
//!
//! One websocket to the browser, in the protocol's flat session mode: each page is a target
//! with its session id, and every command and event carries it. Commands are answered in
//! order on one thread: `call` sends, then reads until the answer with its id arrives,
//! keeping the events it passes for `wait_event`. Every wait is bounded (`TIMEOUT`), and a
//! failure panics naming what was awaited, for the test to report.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use tungstenite::protocol::{Role, WebSocket};
use tungstenite::{Message, error::Error as WsError};

/// How long any one wait may take: a page load, a navigation, an answer.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// Chromium with a fresh profile, killed (and its profile removed) when dropped.
pub struct Browser {
    child: Child,
    conn: Rc<RefCell<Connection>>,
    profile: PathBuf,
}

struct Connection {
    ws: WebSocket<TcpStream>,
    next_id: u64,
    /// Events read while waiting for something else, oldest first.
    events: VecDeque<Value>,
}

impl Browser {
    /// Starts `chromium` headless; `profile` is a fresh directory, removed on drop.
    pub fn launch(chromium: &Path, profile: PathBuf) -> Browser {
        std::fs::create_dir_all(&profile).expect("creating the browser profile");
        let mut child = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--window-size=1280,1024",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", chromium.display()));
        // Chromium says where it listens on stderr; the rest of stderr is drained, so it
        // never blocks on a full pipe, and kept for a failure's message.
        let stderr = child.stderr.take().expect("chromium's stderr");
        let (found, listening) = mpsc::channel();
        std::thread::spawn(move || {
            let mut seen = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = found.send(Ok(url.trim().to_owned()));
                } else if seen.len() < 20_000 {
                    seen.push_str(&line);
                    seen.push('\n');
                }
            }
            let _ = found.send(Err(seen));
        });
        let url = match listening.recv_timeout(TIMEOUT) {
            Ok(Ok(url)) => url,
            Ok(Err(log)) => panic!("chromium exited before it listened:\n{log}"),
            Err(_) => panic!("chromium did not say where it listens within {TIMEOUT:?}"),
        };
        let ws = connect(&url);
        let conn = Rc::new(RefCell::new(Connection { ws, next_id: 0, events: VecDeque::new() }));
        Browser { child, conn, profile }
    }

    /// A new page (a tab), blank, with its page events on.
    pub fn new_page(&self) -> Page {
        let target = call(&self.conn, None, "Target.createTarget", json!({ "url": "about:blank" }));
        let target = target["targetId"].as_str().expect("a target id").to_owned();
        let attached = call(&self.conn, None, "Target.attachToTarget", json!({ "targetId": target, "flatten": true }));
        let session = attached["sessionId"].as_str().expect("a session id").to_owned();
        let page = Page { conn: self.conn.clone(), session };
        page.call("Page.enable", json!({}));
        page.call("Page.setLifecycleEventsEnabled", json!({ "enabled": true }));
        page.call("Runtime.enable", json!({}));
        page.call("Network.enable", json!({}));
        page
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Opens the websocket at `url` (`ws://host:port/path`): the HTTP upgrade by hand, then the
/// protocol from tungstenite.
fn connect(url: &str) -> WebSocket<TcpStream> {
    let rest = url.strip_prefix("ws://").unwrap_or_else(|| panic!("not a ws:// URL: {url}"));
    let (authority, path) = rest.split_once('/').map(|(a, p)| (a, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut stream = TcpStream::connect(authority).unwrap_or_else(|e| panic!("connecting to {authority}: {e}"));
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).expect("randomness");
    let key = base64::engine::general_purpose::STANDARD.encode(nonce);
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .expect("sending the upgrade");
    // Byte by byte up to the blank line, so no frame that follows is read here.
    stream.set_read_timeout(Some(TIMEOUT)).expect("a read timeout");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("reading the upgrade's answer");
        head.push(byte[0]);
        assert!(head.len() < 8192, "the upgrade's answer has no end");
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "chromium refused the websocket: {head}");
    WebSocket::from_raw_socket(stream, Role::Client, None)
}

impl Connection {
    /// The next message, or None when none came within `wait`.
    fn read(&mut self, wait: Duration) -> Option<Value> {
        self.ws.get_mut().set_read_timeout(Some(wait.max(Duration::from_millis(1)))).expect("a read timeout");
        loop {
            match self.ws.read() {
                Ok(Message::Text(text)) => {
                    return Some(serde_json::from_str(text.as_str()).expect("the browser sends JSON"));
                }
                Ok(Message::Close(frame)) => panic!("the browser closed the connection: {frame:?}"),
                Ok(_) => continue, // pings and pongs: answered by tungstenite itself
                Err(WsError::Io(e))
                    if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
                {
                    return None;
                }
                Err(e) => panic!("reading from the browser: {e}"),
            }
        }
    }
}

/// Sends a command (to a page's session, or to the browser) and returns its result.
fn call(conn: &Rc<RefCell<Connection>>, session: Option<&str>, method: &str, params: Value) -> Value {
    let mut c = conn.borrow_mut();
    c.next_id += 1;
    let id = c.next_id;
    let mut message = json!({ "id": id, "method": method, "params": params });
    if let Some(s) = session {
        message["sessionId"] = json!(s);
    }
    c.ws.send(Message::text(message.to_string())).unwrap_or_else(|e| panic!("sending {method}: {e}"));
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "{method} was not answered within {TIMEOUT:?}");
        let Some(m) = c.read(left) else { continue };
        if m["id"] == json!(id) {
            if let Some(error) = m.get("error") {
                panic!("{method} {message} failed: {error}");
            }
            return m["result"].clone();
        }
        if m.get("method").is_some() {
            c.events.push_back(m);
        }
    }
}

/// One page (tab) of the browser.
pub struct Page {
    conn: Rc<RefCell<Connection>>,
    session: String,
}

impl Page {
    /// A protocol command on this page.
    pub fn call(&self, method: &str, params: Value) -> Value {
        call(&self.conn, Some(&self.session), method, params)
    }

    /// Forgets the events seen so far, reading what has already arrived, so a wait that
    /// follows sees only what the next action causes.
    fn forget_events(&self) {
        let mut c = self.conn.borrow_mut();
        while let Some(m) = c.read(Duration::from_millis(20)) {
            drop(m);
        }
        c.events.clear();
    }

    /// Waits for an event of this page named `method` for which `matches` holds.
    fn wait_event(&self, method: &str, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let mut c = self.conn.borrow_mut();
        let ours =
            |m: &Value| m["method"] == method && m["sessionId"] == self.session.as_str() && matches(&m["params"]);
        if let Some(i) = c.events.iter().position(ours) {
            return c.events.remove(i).expect("the event just found")["params"].clone();
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no {method} ({what}) within {TIMEOUT:?}");
            if let Some(m) = c.read(left) {
                if ours(&m) {
                    return m["params"].clone();
                }
                if m.get("method").is_some() {
                    c.events.push_back(m);
                }
            }
        }
    }

    /// Opens `url` and waits until it has loaded (after any redirects). Panics if the
    /// browser could not reach it.
    pub fn goto(&self, url: &str) {
        self.forget_events();
        let nav = self.call("Page.navigate", json!({ "url": url }));
        if let Some(error) = nav.get("errorText").and_then(Value::as_str).filter(|e| !e.is_empty()) {
            panic!("opening {url}: {error}");
        }
        // Without a loader the navigation stayed in the document (a fragment): nothing loads.
        if let Some(loader) = nav["loaderId"].as_str() {
            self.wait_event("Page.lifecycleEvent", &format!("load of {url}"), |p| {
                p["name"] == "load" && p["loaderId"] == loader
            });
        }
    }

    /// Does `action` (a click, Enter) and waits for the navigation it starts to load.
    pub fn navigating(&self, what: &str, action: impl FnOnce(&Page)) {
        self.forget_events();
        action(self);
        let navigated = self.wait_event("Page.frameNavigated", what, |p| {
            p["frame"].get("parentId").is_none() && p["frame"]["url"] != "about:blank"
        });
        let loader = navigated["frame"]["loaderId"].as_str().unwrap_or_default().to_owned();
        self.wait_event("Page.lifecycleEvent", what, |p| p["name"] == "load" && p["loaderId"] == loader.as_str());
    }

    /// Evaluates `js` in the page and returns its value (awaiting a promise). Panics on an
    /// exception in the page.
    pub fn eval(&self, js: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": js, "returnByValue": true, "awaitPromise": true, "userGesture": true }),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("{js} threw: {e}");
        }
        r["result"]["value"].clone()
    }

    /// `document.location.href`.
    pub fn location(&self) -> String {
        self.eval("document.location.href").as_str().unwrap_or_default().to_owned()
    }

    /// The whole document as HTML, as the browser holds it now.
    pub fn html(&self) -> String {
        self.eval("document.documentElement.outerHTML").as_str().unwrap_or_default().to_owned()
    }

    /// Whether an element matches `selector`.
    pub fn exists(&self, selector: &str) -> bool {
        self.eval(&format!("document.querySelector({}) !== null", json!(selector))) == json!(true)
    }

    /// The text of the first element matching `selector`, as a person reads it (`innerText`).
    pub fn text(&self, selector: &str) -> String {
        let v = self.eval(&format!(
            "(() => {{ const e = document.querySelector({}); return e && e.innerText; }})()",
            json!(selector)
        ));
        v.as_str().unwrap_or_else(|| panic!("no element {selector} on {}", self.location())).to_owned()
    }

    /// The centre of the first element matching `selector`, scrolled into view: of its first
    /// box, as a link that wraps onto two lines has nothing of it at its bounding box's centre.
    fn centre(&self, selector: &str) -> (f64, f64) {
        let v = self.eval(&format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return null; \
             e.scrollIntoView({{block: 'center', inline: 'center'}}); \
             const r = e.getClientRects()[0] || e.getBoundingClientRect(); \
             return [r.left + r.width / 2, r.top + r.height / 2]; }})()",
            json!(selector)
        ));
        let xy = v.as_array().unwrap_or_else(|| panic!("no element {selector} on {}", self.location()));
        (xy[0].as_f64().unwrap(), xy[1].as_f64().unwrap())
    }

    /// Clicks the first element matching `selector` with the mouse, at its centre.
    pub fn click(&self, selector: &str) {
        let (x, y) = self.centre(selector);
        self.call("Input.dispatchMouseEvent", json!({ "type": "mouseMoved", "x": x, "y": y }));
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": x, "y": y, "button": "left", "buttons": 1, "clickCount": 1 }),
            );
        }
    }

    /// Clicks the link matching `selector`, as a person does to save a file, lets the
    /// browser download it into `dir`, and returns its suggested name and its bytes.
    pub fn download(&self, selector: &str, dir: &Path) -> (String, Vec<u8>) {
        std::fs::create_dir_all(dir).expect("creating the download folder");
        let dir = dir.to_str().expect("a download folder named in UTF-8");
        self.call("Page.setDownloadBehavior", json!({ "behavior": "allowAndName", "downloadPath": dir }));
        self.forget_events();
        self.click(selector);
        let begun = self.wait_event("Page.downloadWillBegin", "the download to begin", |_| true);
        let guid = begun["guid"].as_str().expect("a download's guid").to_owned();
        let done = self.wait_event("Page.downloadProgress", "the download to end", |p| {
            p["guid"] == guid.as_str() && p["state"] != "inProgress"
        });
        assert_eq!(done["state"], "completed", "the download of {selector}: {done}");
        let name = begun["suggestedFilename"].as_str().unwrap_or_default().to_owned();
        let path = Path::new(dir).join(&guid);
        (name, std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display())))
    }

    /// Clicks into the field matching `selector` and types `text` into it.
    pub fn type_into(&self, selector: &str, text: &str) {
        self.click(selector);
        let focused = self.eval(&format!("document.activeElement === document.querySelector({})", json!(selector)));
        assert_eq!(focused, json!(true), "clicking {selector} did not put the cursor in it");
        self.call("Input.insertText", json!({ "text": text }));
    }

    /// Presses and releases Enter in whatever has the focus.
    pub fn press_enter(&self) {
        let key = json!({ "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "nativeVirtualKeyCode": 13 });
        let mut down = key.clone();
        down["type"] = json!("keyDown");
        down["text"] = json!("\r");
        down["unmodifiedText"] = json!("\r");
        self.call("Input.dispatchKeyEvent", down);
        let mut up = key;
        up["type"] = json!("keyUp");
        self.call("Input.dispatchKeyEvent", up);
    }

    /// The browser's cookies for `url`, HttpOnly ones included: (name, value) pairs.
    pub fn cookies(&self, url: &str) -> Vec<(String, String)> {
        let r = self.call("Network.getCookies", json!({ "urls": [url] }));
        r["cookies"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| {
                        (c["name"].as_str().unwrap_or("").to_owned(), c["value"].as_str().unwrap_or("").to_owned())
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The page printed to PDF as the browser's own Print does, on the paper and margins the
    /// page's print stylesheet asks for (`preferCSSPageSize`), with no header or footer of the
    /// browser's own, so what the printed page carries (page numbers too) is the page's.
    /// Written to `path`; returns the PDF's bytes.
    pub fn print_to_pdf(&self, path: &Path) -> Vec<u8> {
        let r = self.call(
            "Page.printToPDF",
            json!({ "preferCSSPageSize": true, "displayHeaderFooter": false, "printBackground": true }),
        );
        let pdf = save(&r, path, "the PDF");
        assert!(pdf.starts_with(b"%PDF-"), "a PDF");
        pdf
    }

    /// A PNG of the whole page, written to `path`; returns its size in bytes.
    pub fn screenshot(&self, path: &Path) -> usize {
        let r = self.call("Page.captureScreenshot", json!({ "format": "png", "captureBeyondViewport": true }));
        let png = save(&r, path, "the screenshot");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "the screenshot is a PNG");
        png.len()
    }
}

/// The base64 `data` of a capture's answer, decoded and written to `path`: its bytes.
fn save(answer: &Value, path: &Path, what: &str) -> Vec<u8> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(answer["data"].as_str().unwrap_or_else(|| panic!("no data for {what}")))
        .unwrap_or_else(|e| panic!("{what} is not base64: {e}"));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("creating the folder of {what}: {e}"));
    }
    std::fs::write(path, &bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    bytes
}
