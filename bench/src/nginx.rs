//! nginx serving the baseline's fixed answer over mutual TLS with the gateway's own
//! certificates, when this machine has nginx: the handshake target is a multiple of nginx's
//! mutual-TLS handshake rate on the same machine, so it is measured in the same run.

use crate::baseline::RESPONSE_BODY;
use crate::procstat;
use anyhow::{Context, Result, bail};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CANDIDATES: [&str; 3] = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"];

/// The nginx binary, if installed.
pub fn find() -> Option<PathBuf> {
    CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
}

/// One nginx process (no master, one worker's work in it), stopped and cleaned up on drop.
pub struct Nginx {
    child: Child,
    dir: PathBuf,
    pub addr: SocketAddr,
    pub pid: u32,
}

impl Nginx {
    /// Starts `binary` on a free port with the certificates in `pki` (the development PKI's
    /// file names), pinned to `core`.
    pub fn spawn(binary: &Path, pki: &Path, core: Option<usize>) -> Result<Self> {
        let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let dir = std::env::temp_dir().join(format!(
            "gateway-bench-nginx-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir)?;
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config(&dir, pki, addr))?;
        let child = Command::new(binary)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting nginx")?;
        let pid = child.id();
        let nginx = Self {
            child,
            dir,
            addr,
            pid,
        };
        if let Some(core) = core
            && !procstat::pin_to_core(pid, core)
        {
            eprintln!("warning: could not pin nginx to core {core}");
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(addr).is_err() {
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(nginx.dir.join("error.log")).unwrap_or_default();
                bail!("nginx did not start listening: {log}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(nginx)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// TLS 1.2 and 1.3 like the gateway, a client certificate from the development CA required,
/// HTTP/1.1 kept alive, no access log: the same work as the baseline, done by nginx.
fn config(dir: &Path, pki: &Path, addr: SocketAddr) -> String {
    let d = dir.display();
    let p = pki.display();
    format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
         error_log {d}/error.log warn;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n  access_log off;\n  keepalive_requests 100000000;\n  keepalive_timeout 75s;\n\
         client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n\
         uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
         server {{\n    listen {addr} ssl;\n\
         ssl_certificate {p}/server.crt;\n    ssl_certificate_key {p}/server.key;\n\
         ssl_client_certificate {p}/ca.crt;\n    ssl_verify_client on;\n\
         ssl_protocols TLSv1.2 TLSv1.3;\n\
         location / {{ default_type application/json; return 200 '{RESPONSE_BODY}'; }}\n  }}\n}}\n"
    )
}
