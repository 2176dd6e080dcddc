//! `ferrofish.ImageServer`: the embedded HTTP(S) server handing images and config drives to a
//! BMC, running on the shared tokio runtime, so it keeps serving while Python does other
//! things (and while other ferrofish calls wait with the GIL released).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::UNIX_EPOCH;

use ferrofish::vmedia::{Fetch, ImageServer, ImageServerOptions, TlsIdentity};
use pyo3::exceptions::{PyOSError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString, PyTuple, PyType};

use crate::errors::{ImageServerError, InvalidInputError, vmedia_to_pyerr};
use crate::runtime::block_on;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Plain data behind the lock: a panic elsewhere leaves it usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The bytes of a `bytes` or `bytearray`; anything else (a `str` above all) is a `TypeError`.
pub(crate) fn bytes_of(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u8>> {
    if let Ok(bytes) = value.cast::<PyBytes>() {
        return Ok(bytes.as_bytes().to_vec());
    }
    if let Ok(array) = value.cast::<PyByteArray>() {
        return Ok(array.to_vec());
    }
    Err(PyTypeError::new_err(format!(
        "{what} must be bytes or bytearray, not {}",
        value.get_type().name()?
    )))
}

/// A PEM argument: the PEM itself as `bytes`, or the path of a PEM file.
fn pem_of(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u8>> {
    if value.is_instance_of::<PyBytes>() || value.is_instance_of::<PyByteArray>() {
        return bytes_of(value, what);
    }
    let path: PathBuf = value.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "{what} must be PEM bytes or the path of a PEM file"
        ))
    })?;
    std::fs::read(&path).map_err(|error| {
        PyOSError::new_err((
            error.raw_os_error().unwrap_or(0),
            format!("cannot read {what}: {error}"),
            path.to_string_lossy().into_owned(),
        ))
    })
}

/// An HTTP (or HTTPS) server for boot images and config drives, for a BMC to fetch.
///
/// Every URL carries a random token (`url_for()` gives it); a request without it gets 404.
/// It starts serving when created and keeps serving on a background runtime until `stop()`,
/// the end of a `with` block, or garbage collection. `repr` never shows the token.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "ImageServer")]
pub(crate) struct PyImageServer {
    /// `None` once stopped. An `Arc` so a call in flight keeps it until the call ends.
    server: Mutex<Option<Arc<ImageServer>>>,
    /// The fetch log as it was when the server stopped.
    final_fetches: Mutex<Vec<Fetch>>,
    address: SocketAddr,
    scheme: &'static str,
}

impl PyImageServer {
    pub(crate) fn server(&self) -> PyResult<Arc<ImageServer>> {
        lock(&self.server)
            .clone()
            .ok_or_else(|| ImageServerError::new_err("the image server was stopped"))
    }

    /// Runs one call on the server with the GIL released.
    fn run<T, Fut>(
        &self,
        py: Python<'_>,
        operation: impl FnOnce(Arc<ImageServer>) -> Fut + Send + 'static,
    ) -> PyResult<T>
    where
        Fut: std::future::Future<Output = Result<T, ferrofish::vmedia::Error>> + Send + 'static,
        T: Send + 'static,
    {
        let server = self.server()?;
        block_on(
            py,
            move || operation(server),
            |py, error| vmedia_to_pyerr(py, &error),
        )
    }
}

impl Drop for PyImageServer {
    fn drop(&mut self) {
        let server = lock(&self.server).take();
        let _context = crate::runtime::runtime().enter();
        drop(server);
    }
}

#[pymethods]
impl PyImageServer {
    /// Binds and starts serving (nothing yet: add images with `add_bytes`, `add_file`,
    /// `add_directory`).
    ///
    /// Args:
    ///     bind: `host:port` to listen on; port 0 picks a free one. Use an address the BMC
    ///         can reach.
    ///     public_host: the host name or address to put in URLs; needed when `bind` is a
    ///         wildcard address (`0.0.0.0:8080`).
    ///     tls_cert: serve HTTPS with this certificate chain (PEM bytes, or a PEM file's path).
    ///     tls_key: its private key (PEM bytes or path); required with `tls_cert`.
    ///
    /// Raises:
    ///     ImageServerError: the address cannot be bound, or the certificate is not usable.
    ///     InvalidInputError: `bind` is not `host:port`, or no URL could name the server.
    #[new]
    #[pyo3(
        text_signature = "(bind='127.0.0.1:0', *, public_host=None, tls_cert=None, tls_key=None)"
    )]
    #[pyo3(signature = (bind = "127.0.0.1:0", *, public_host = None, tls_cert = None, tls_key = None))]
    fn new(
        py: Python<'_>,
        bind: &str,
        public_host: Option<String>,
        tls_cert: Option<Bound<'_, PyAny>>,
        tls_key: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let listen: SocketAddr = bind.parse().map_err(|_| {
            InvalidInputError::new_err(format!(
                "bind must be an IP address and port, such as \"127.0.0.1:0\" or \"[::1]:8080\", not {bind:?}"
            ))
        })?;
        let tls = match (tls_cert, tls_key) {
            (Some(cert), Some(key)) => Some(TlsIdentity {
                cert_pem: pem_of(&cert, "tls_cert")?,
                key_pem: pem_of(&key, "tls_key")?,
            }),
            (None, None) => None,
            _ => {
                return Err(InvalidInputError::new_err(
                    "tls_cert and tls_key go together: pass both for HTTPS, neither for HTTP",
                ));
            }
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let options = ImageServerOptions {
            listen,
            public_host,
            tls,
        };
        let server = block_on(
            py,
            move || ImageServer::start(options),
            |py, error| vmedia_to_pyerr(py, &error),
        )?;
        Ok(PyImageServer {
            address: server.local_addr(),
            server: Mutex::new(Some(Arc::new(server))),
            final_fetches: Mutex::new(Vec::new()),
            scheme,
        })
    }

    /// The address listened on, `host:port`.
    #[getter]
    fn address(&self) -> String {
        self.address.to_string()
    }

    /// The port listened on.
    #[getter]
    fn port(&self) -> u16 {
        self.address.port()
    }

    /// `"http"` or `"https"`.
    #[getter]
    fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// Whether it still serves (not stopped).
    #[getter]
    fn running(&self) -> bool {
        lock(&self.server).is_some()
    }

    /// The URL of image `name`, token included, whether or not it is served yet (for a
    /// directory served with `add_directory`, it ends with `/`).
    ///
    /// Raises:
    ///     InvalidInputError: `name` is not 1-128 characters of `A-Z a-z 0-9 . _ -`.
    fn url_for(&self, py: Python<'_>, name: &str) -> PyResult<String> {
        let url = self
            .server()?
            .url(name)
            .map_err(|error| vmedia_to_pyerr(py, &error))?;
        Ok(url.into())
    }

    /// Serves `data` (`bytes` or `bytearray`) as `name`; serving a name again replaces it.
    ///
    /// Returns:
    ///     The URL to hand to the BMC.
    fn add_bytes(&self, py: Python<'_>, name: String, data: &Bound<'_, PyAny>) -> PyResult<String> {
        let data = bytes_of(data, "data")?;
        let url = self.run(py, move |server| async move {
            server.serve_bytes(&name, data).await
        })?;
        Ok(url.into())
    }

    /// Serves the regular file at `path` as `name`; it is read at each request, so it must
    /// stay in place.
    ///
    /// Returns:
    ///     The URL to hand to the BMC.
    fn add_file(&self, py: Python<'_>, name: String, path: PathBuf) -> PyResult<String> {
        let url = self.run(py, move |server| async move {
            server.serve_file(&name, path).await
        })?;
        Ok(url.into())
    }

    /// Serves every file under the directory `path` below `name/`.
    ///
    /// Returns:
    ///     The directory's URL, ending with `/`: append a file's relative path to it.
    fn add_directory(&self, py: Python<'_>, name: String, path: PathBuf) -> PyResult<String> {
        let url = self.run(py, move |server| async move {
            server.serve_dir(&name, path).await
        })?;
        Ok(url.into())
    }

    /// Stops serving `name` (later requests get 404). True when it was served.
    fn remove(&self, name: &str) -> PyResult<bool> {
        Ok(self.server()?.remove(name))
    }

    /// The requests answered so far, oldest first (the last 4096), including those refused
    /// for a missing or wrong token. After `stop()`, the log as it was then.
    fn fetches<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let fetches = match lock(&self.server).as_ref() {
            Some(server) => server.fetches(),
            None => lock(&self.final_fetches).clone(),
        };
        PyTuple::new(
            py,
            fetches
                .into_iter()
                .map(|fetch| Py::new(py, PyImageFetch { fetch }))
                .collect::<PyResult<Vec<_>>>()?,
        )
    }

    /// Stops listening (downloads in flight get a second to finish) and deletes the bytes it
    /// was handed. Stopping twice is harmless.
    fn stop(&self) {
        let server = lock(&self.server).take();
        if let Some(server) = server {
            *lock(&self.final_fetches) = server.fetches();
            let _context = crate::runtime::runtime().enter();
            drop(server);
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Stops the server; an exception from the `with` body keeps propagating.
    fn __exit__(
        &self,
        _exc_type: Option<&Bound<'_, PyType>>,
        _exc_value: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) -> bool {
        self.stop();
        false
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        // Never the token: only where it listens.
        Ok(format!(
            "ImageServer(address={}, scheme='{}', running={})",
            PyString::new(py, &self.address.to_string()).repr()?,
            self.scheme,
            if self.running() { "True" } else { "False" }
        ))
    }
}

/// One request the image server answered: who asked for which image and range, and the
/// status. The token is never recorded.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "ImageFetch")]
pub(crate) struct PyImageFetch {
    fetch: Fetch,
}

#[pymethods]
impl PyImageFetch {
    /// Who asked, `host:port`.
    #[getter]
    fn peer(&self) -> String {
        self.fetch.peer.to_string()
    }

    /// `"GET"`, `"HEAD"`, ...
    #[getter]
    fn method(&self) -> &str {
        &self.fetch.method
    }

    /// The image name; `None` when the token was wrong or missing.
    #[getter]
    fn image(&self) -> Option<&str> {
        self.fetch.image.as_deref()
    }

    /// The path inside a served directory, if any.
    #[getter]
    fn path_in_image(&self) -> Option<&str> {
        self.fetch.path_in_image.as_deref()
    }

    /// The `Range` header as sent (`"bytes=0-2047"`); `None` for a whole-file request.
    #[getter]
    fn range(&self) -> Option<&str> {
        self.fetch.range.as_deref()
    }

    /// The HTTP status answered (200, 206, 404, ...).
    #[getter]
    fn status(&self) -> u16 {
        self.fetch.status
    }

    /// When the request arrived, in seconds since the epoch (as `time.time()`).
    #[getter]
    fn at(&self) -> f64 {
        self.fetch
            .at
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |since| since.as_secs_f64())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let text = |value: Option<&str>| -> PyResult<String> {
            match value {
                Some(value) => Ok(PyString::new(py, value).repr()?.to_string()),
                None => Ok("None".to_owned()),
            }
        };
        Ok(format!(
            "ImageFetch(peer='{}', method={}, image={}, range={}, status={})",
            self.fetch.peer,
            text(Some(&self.fetch.method))?,
            text(self.fetch.image.as_deref())?,
            text(self.fetch.range.as_deref())?,
            self.fetch.status
        ))
    }
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyImageServer>()?;
    module.add_class::<PyImageFetch>()?;
    Ok(())
}
