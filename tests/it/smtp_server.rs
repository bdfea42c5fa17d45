//! A real SMTP server on loopback for the tests: `python3 -m aiosmtpd` writing every message it
//! accepts into a Maildir. Killed when dropped.
#![allow(dead_code)]
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SmtpServer {
    pub port: u16,
    pub maildir: PathBuf,
    child: Child,
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        SmtpServer::start_on(free_port(), crate::support::tempdir().join("maildir"))
    }

    /// Starts on `port`, storing into `maildir` (created by the server), and waits until it
    /// accepts connections.
    pub fn start_on(port: u16, maildir: PathBuf) -> SmtpServer {
        let child = Command::new(crate::python::python())
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (pip install aiosmtpd)");
        let server = SmtpServer {
            port,
            maildir,
            child,
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "aiosmtpd did not start on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, raw.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) else {
                continue;
            };
            for e in entries {
                out.push(std::fs::read(e.unwrap().path()).unwrap());
            }
        }
        out
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One received message: headers (first value), the plain text and the HTML part, decoded.
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub text: String,
    pub html: String,
}

impl Received {
    pub fn parse(raw: &[u8]) -> Received {
        let m = mailparse::parse_mail(raw).unwrap();
        let headers = m
            .headers
            .iter()
            .map(|h| (h.get_key().to_ascii_lowercase(), h.get_value()))
            .collect();
        let (mut text, mut html) = (String::new(), String::new());
        for p in m.subparts.iter().chain(std::iter::once(&m)) {
            match p.ctype.mimetype.as_str() {
                "text/plain" => text = p.get_body().unwrap(),
                "text/html" => html = p.get_body().unwrap(),
                _ => {}
            }
        }
        Received {
            headers,
            text,
            html,
        }
    }

    pub fn header(&self, name: &str) -> &str {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }
}
