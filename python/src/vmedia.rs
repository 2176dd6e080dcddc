//! `ferrofish.VirtualMedia` (from `RedfishClient.virtual_media()`) and its records
//! (`VirtualMediaSlot`, `BootPhase`, `BootReport`): the blocking Python face of
//! `ferrofish::vmedia::VirtualMedia`. The image server and the config-drive builders are in
//! the submodules.
//!
//! Image URLs are shown redacted in every `repr` (scheme, host, port and file name): the
//! image server's URLs carry an access token. Attributes give the URL whole, as the caller
//! handed it over.
//!
//! Over 600 lines because it holds the classes of one API (`VirtualMedia`, its asyncio face
//! `AsyncVirtualMedia` over the shared `MediaCore`, and the three records they return), whose
//! doc comments are the Python help text.

mod config_drive;
pub(crate) mod server;

use std::collections::hash_map::DefaultHasher;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::task::Poll;

use ferrofish::redfish::System;
use ferrofish::vmedia::{
    BootOptions, BootPhase, BootReport, Error, MediaKind, Slot, SlotLevel, VirtualMedia, redact_url,
};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};

use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use crate::client::seconds;
use crate::errors::{ClientClosedError, InvalidInputError, vmedia_to_pyerr};
use crate::runtime::{
    Face, awaitable, block_on_reporting, check_same_process, drop_in_runtime, run,
};

/// The `media=` argument: `"cd"` for ISO images, `"usb"` for disk and floppy images.
fn media_kind(media: &str) -> PyResult<MediaKind> {
    match media.to_ascii_lowercase().as_str() {
        "cd" => Ok(MediaKind::Cd),
        "usb" => Ok(MediaKind::Removable),
        _ => Err(InvalidInputError::new_err(format!(
            "media must be \"cd\" or \"usb\", not {media:?}"
        ))),
    }
}

/// Refuses what no BMC could fetch, before anything is sent: the image must be an absolute
/// URL (`http://`, `https://`, `nfs://`, ...).
fn check_image_url(image: &str) -> PyResult<()> {
    let scheme_ok = image.split_once("://").is_some_and(|(scheme, rest)| {
        !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+')
            && !rest.trim().is_empty()
    });
    if scheme_ok {
        Ok(())
    } else {
        Err(InvalidInputError::new_err(format!(
            "image must be a URL the BMC can fetch, such as http://host/boot.iso, not {}",
            redact_url(image)
        )))
    }
}

fn py_bool(flag: bool) -> &'static str {
    if flag { "True" } else { "False" }
}

/// A Python `repr` of an optional string.
fn repr_opt(py: Python<'_>, value: Option<&str>) -> PyResult<String> {
    match value {
        Some(text) => Ok(PyString::new(py, text).repr()?.to_string()),
        None => Ok("None".to_owned()),
    }
}

/// What `VirtualMedia` and `AsyncVirtualMedia` share: the system's media and the calls, each
/// written once and run through either face (`runtime::Face`).
pub(crate) struct MediaCore {
    /// `None` only while the object is being dropped.
    media: Option<VirtualMedia>,
    /// The process that built it (see `runtime` on fork safety).
    pid: u32,
}

impl Drop for MediaCore {
    fn drop(&mut self) {
        // It may hold the last clone of the client, whose drop deletes the session in the
        // background: that needs the runtime, which Python's garbage collector is not in.
        if let Some(media) = self.media.take() {
            drop_in_runtime(self.pid, media);
        }
    }
}

/// Why an awaitable `boot_from_iso` stopped: the boot failed, or `on_progress` raised.
enum ReportedError {
    Media(Error),
    Callback(PyErr),
}

impl MediaCore {
    fn new(system: &System) -> MediaCore {
        MediaCore {
            media: Some(VirtualMedia::new(system)),
            pid: std::process::id(),
        }
    }

    /// The same media with quirk `idrac_vmedia_boot_before_6`'s refusal lifted or restored
    /// (`VirtualMedia::allow_idrac_vmedia_boot_before_6`).
    fn allowing_old_idrac_boot(&self, allow: bool) -> PyResult<MediaCore> {
        Ok(MediaCore {
            media: Some(
                self.media()?
                    .clone()
                    .allow_idrac_vmedia_boot_before_6(allow),
            ),
            pid: self.pid,
        })
    }

    fn media(&self) -> PyResult<&VirtualMedia> {
        check_same_process(self.pid, "VirtualMedia")?;
        self.media
            .as_ref()
            .ok_or_else(|| ClientClosedError::new_err("the virtual media is being dropped"))
    }

    /// Runs one operation through `face`.
    fn run<'py, T, Fut>(
        &self,
        py: Python<'py>,
        face: Face,
        operation: impl FnOnce(VirtualMedia) -> Fut + Send + 'static,
        convert: impl FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        Fut: Future<Output = Result<T, Error>> + Send + 'static,
        T: Send + 'static,
    {
        let media = self.media()?.clone();
        run(
            py,
            face,
            move || operation(media),
            |py, error: Error| vmedia_to_pyerr(py, &error),
            convert,
        )
    }

    fn system(&self) -> PyResult<String> {
        Ok(self.media()?.system().path().to_owned())
    }

    fn slots<'py>(&self, py: Python<'py>, face: Face) -> PyResult<Bound<'py, PyAny>> {
        self.run(
            py,
            face,
            |media| async move { media.slots().await },
            |py, slots| Ok(slots_to_py(py, slots)?.into_any().unbind()),
        )
    }

    fn insert<'py>(
        &self,
        py: Python<'py>,
        face: Face,
        image: String,
        media: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        check_image_url(&image)?;
        let kind = media_kind(media)?;
        self.run(
            py,
            face,
            move |media| async move { media.insert(&image, kind).await },
            |py, slot| Ok(Py::new(py, PyVirtualMediaSlot { slot })?.into_any()),
        )
    }

    fn eject<'py>(
        &self,
        py: Python<'py>,
        face: Face,
        slot: SlotArg,
    ) -> PyResult<Bound<'py, PyAny>> {
        let convert = |py: Python<'_>, outcome: Result<bool, String>| match outcome {
            Ok(ejected) => Ok(ejected.into_pyobject(py)?.to_owned().into_any().unbind()),
            Err(reason) => Err(InvalidInputError::new_err(reason)),
        };
        match slot {
            SlotArg::Slot(slot) => {
                let slot = slot.get().slot.clone();
                self.run(
                    py,
                    face,
                    move |media| async move {
                        let now = media.read_slot(&slot).await?;
                        media.eject(&now).await?;
                        Ok(Ok(now.is_occupied()))
                    },
                    convert,
                )
            }
            SlotArg::Name(name) => self.run(
                py,
                face,
                move |media| async move {
                    let slots = media.slots().await?;
                    match find_slot(&slots, &name) {
                        Ok(slot) => {
                            media.eject(&slot).await?;
                            Ok(Ok(slot.is_occupied()))
                        }
                        Err(reason) => Ok(Err(reason)),
                    }
                },
                convert,
            ),
        }
    }

    fn eject_all<'py>(
        &self,
        py: Python<'py>,
        face: Face,
        media: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let kinds = match media {
            Some(media) => vec![media_kind(media)?],
            None => vec![MediaKind::Cd, MediaKind::Removable],
        };
        self.run(
            py,
            face,
            move |media| async move {
                let mut ejected = Vec::new();
                for kind in kinds {
                    ejected.extend(media.eject_all(kind).await?);
                }
                Ok(ejected)
            },
            |py, ejected| Ok(slots_to_py(py, ejected)?.into_any().unbind()),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn boot_from_iso<'py>(
        &self,
        py: Python<'py>,
        face: Face,
        image: String,
        timeout: f64,
        poll_interval: f64,
        eject_after: bool,
        on_progress: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        check_image_url(&image)?;
        if let Some(callback) = on_progress
            && !callback.is_callable()
        {
            return Err(PyTypeError::new_err(format!(
                "on_progress must be callable, not {}",
                callback.get_type().name()?
            )));
        }
        let options = BootOptions {
            timeout: seconds("timeout", timeout)?,
            poll_interval: seconds("poll_interval", poll_interval)?,
            eject_after,
        };
        let media = self.media()?.clone();
        let boot = move |sender: UnboundedSender<BootPhase>| async move {
            let mut report = |phase: &BootPhase| {
                // The receiver is gone only when the caller stopped waiting.
                let _ = sender.send(phase.clone());
            };
            media
                .boot_from_iso_with_progress(&image, &options, &mut report)
                .await
        };
        match face {
            Face::Blocking => {
                let mut phases: Vec<Py<PyBootPhase>> = Vec::new();
                let report = block_on_reporting(
                    py,
                    boot,
                    |py, error: Error| vmedia_to_pyerr(py, &error),
                    |py, phase: BootPhase| {
                        let phase = Py::new(py, PyBootPhase { phase })?;
                        phases.push(phase.clone_ref(py));
                        if let Some(callback) = on_progress {
                            callback.call1((phase,))?;
                        }
                        Ok(())
                    },
                )?;
                Ok(Py::new(py, PyBootReport::new(py, report, phases)?)?
                    .into_bound(py)
                    .into_any())
            }
            Face::Awaitable => {
                let callback = on_progress.map(|callback| callback.clone().unbind());
                awaitable(
                    py,
                    move || boot_reporting(boot, callback),
                    |py, error| match error {
                        ReportedError::Media(error) => vmedia_to_pyerr(py, &error),
                        ReportedError::Callback(error) => error,
                    },
                    |py, (report, phases)| {
                        Ok(Py::new(py, PyBootReport::new(py, report, phases)?)?.into_any())
                    },
                )
            }
        }
    }
}

/// The awaitable boot: the boot runs as a task of its own, and each phase it reports is
/// handed to `callback` as it arrives (with the GIL held, on a ferrofish thread). If the
/// callback raises, the boot is stopped where it is and the exception propagates, as in
/// the blocking face.
async fn boot_reporting<Boot, Fut>(
    boot: Boot,
    callback: Option<Py<PyAny>>,
) -> Result<(BootReport, Vec<Py<PyBootPhase>>), ReportedError>
where
    Boot: FnOnce(UnboundedSender<BootPhase>) -> Fut,
    Fut: Future<Output = Result<BootReport, Error>> + Send + 'static,
{
    let (sender, mut events) = unbounded_channel();
    let mut task = tokio::spawn(boot(sender));
    let mut phases = Vec::new();
    let mut on_phase = |phase: BootPhase| {
        Python::attach(|py| {
            let phase = Py::new(py, PyBootPhase { phase })?;
            phases.push(phase.clone_ref(py));
            if let Some(callback) = &callback {
                callback.call1(py, (phase,))?;
            }
            Ok::<(), PyErr>(())
        })
    };
    loop {
        // Events first: the task sends each before it finishes.
        let next = std::future::poll_fn(|cx| {
            if let Poll::Ready(Some(phase)) = events.poll_recv(cx) {
                return Poll::Ready(Ok(phase));
            }
            Pin::new(&mut task).poll(cx).map(Err)
        })
        .await;
        match next {
            Ok(phase) => {
                if let Err(error) = on_phase(phase) {
                    task.abort();
                    return Err(ReportedError::Callback(error));
                }
            }
            Err(joined) => {
                // A phase sent just before the end, between the two polls, comes first.
                while let Ok(phase) = events.try_recv() {
                    on_phase(phase).map_err(ReportedError::Callback)?;
                }
                return match joined {
                    Ok(Ok(report)) => Ok((report, phases)),
                    Ok(Err(error)) => Err(ReportedError::Media(error)),
                    Err(join_error) if join_error.is_panic() => {
                        std::panic::resume_unwind(join_error.into_panic())
                    }
                    Err(_cancelled) => Err(ReportedError::Callback(PyRuntimeError::new_err(
                        "the boot task was cancelled",
                    ))),
                };
            }
        }
    }
}

fn slots_to_py(py: Python<'_>, slots: Vec<Slot>) -> PyResult<Bound<'_, PyTuple>> {
    let items = slots
        .into_iter()
        .map(|slot| Py::new(py, PyVirtualMediaSlot { slot }))
        .collect::<PyResult<Vec<_>>>()?;
    PyTuple::new(py, items)
}

/// The `slot` argument of `eject`: a slot as listed, or its path or `Id`.
#[derive(FromPyObject)]
enum SlotArg {
    Slot(Py<PyVirtualMediaSlot>),
    Name(String),
}

/// The slot named `name` (its path, else its `Id` when only one slot has it).
fn find_slot(slots: &[Slot], name: &str) -> Result<Slot, String> {
    if let Some(slot) = slots.iter().find(|s| s.path == name) {
        return Ok(slot.clone());
    }
    let by_id: Vec<&Slot> = slots.iter().filter(|s| s.id == name).collect();
    match by_id.as_slice() {
        [slot] => Ok((*slot).clone()),
        [] => Err(format!(
            "no virtual-media slot is named {name:?}; the slots are: {}",
            slots
                .iter()
                .map(|s| s.path.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        several => Err(format!(
            "several slots have the Id {name:?}; pass the path: {}",
            several
                .iter()
                .map(|s| s.path.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The virtual media of one system: list the slots, insert and eject images, boot once from an
/// ISO. Get one from `RedfishClient.virtual_media()`.
///
/// Every method blocks with the GIL released; Ctrl-C raises `KeyboardInterrupt`. Errors are
/// `VirtualMediaError` subclasses, or the client's errors for a refused request.
/// `AsyncVirtualMedia` (from `AsyncRedfishClient.virtual_media()`) is the asyncio twin.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "VirtualMedia")]
pub(crate) struct PyVirtualMedia {
    core: MediaCore,
}

impl PyVirtualMedia {
    pub(crate) fn new(system: &System) -> PyVirtualMedia {
        PyVirtualMedia {
            core: MediaCore::new(system),
        }
    }
}

#[pymethods]
impl PyVirtualMedia {
    /// The system's path, such as `/redfish/v1/Systems/1`.
    #[getter]
    fn system(&self) -> PyResult<String> {
        self.core.system()
    }

    /// A `VirtualMedia` of the same system whose `boot_from_iso` does not refuse an iDRAC8,
    /// or an iDRAC9 before 6.00 (quirk `idrac_vmedia_boot_before_6`: the standard `Cd`
    /// target boots the physical drive there); `allow=False` restores the refusal. This
    /// object is left as it is.
    #[pyo3(signature = (allow = true))]
    fn allow_idrac_vmedia_boot_before_6(&self, allow: bool) -> PyResult<PyVirtualMedia> {
        Ok(PyVirtualMedia {
            core: self.core.allowing_old_idrac_boot(allow)?,
        })
    }

    /// Every slot, System level first, then each managing Manager's (a Dell iDRAC9 on 6.x
    /// firmware has both).
    fn slots<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core.slots(py, Face::Blocking)
    }

    /// Inserts `image` into the best free slot for `media`, after ejecting stale media of that
    /// kind; a 202 task is followed; the slot is read back to check it holds the image.
    ///
    /// Args:
    ///     image: a URL the BMC can fetch (`ImageServer.url_for()` gives one).
    ///     media: `"cd"` for an ISO image, `"usb"` for a disk or floppy image.
    ///
    /// Returns:
    ///     The slot as read back.
    ///
    /// Raises:
    ///     NoSlotError, SlotBusyError, ImageUnreachableError (with the BMC's message),
    ///     ImageRejectedError, InsertFailedError, NotInsertedError.
    #[pyo3(signature = (image, *, media = "cd"))]
    fn insert<'py>(
        &self,
        py: Python<'py>,
        image: String,
        media: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.insert(py, Face::Blocking, image, media)
    }

    /// Ejects whatever `slot` holds now (the slot is read first; nothing is sent for an empty
    /// one).
    ///
    /// Args:
    ///     slot: a `VirtualMediaSlot`, or a slot's path or `Id`.
    ///
    /// Returns:
    ///     True when media was ejected, False when the slot was already empty.
    fn eject<'py>(&self, py: Python<'py>, slot: SlotArg) -> PyResult<Bound<'py, PyAny>> {
        self.core.eject(py, Face::Blocking, slot)
    }

    /// Ejects every occupied slot that takes `media` (`"cd"` or `"usb"`; `None`: every kind),
    /// at System and Manager level.
    ///
    /// Returns:
    ///     The slots ejected, as they were before the eject.
    #[pyo3(signature = (media = None))]
    fn eject_all<'py>(&self, py: Python<'py>, media: Option<&str>) -> PyResult<Bound<'py, PyAny>> {
        self.core.eject_all(py, Face::Blocking, media)
    }

    /// Boots the system once from the ISO at `image`: inserts it into a CD slot (stale media
    /// ejected first), sets a one-time boot override to CD keeping the boot mode (HPE's
    /// `BootOnNextServerReset` where the slot offers it), resets or powers on, and waits until
    /// the override is consumed and, where the BMC reports `BootProgress`, an OS started.
    ///
    /// Args:
    ///     image: the ISO's URL, one the BMC can fetch.
    ///     timeout: seconds the reset may take to consume the override and start an OS.
    ///     poll_interval: seconds between reads of the system while waiting.
    ///     eject_after: eject the image once the OS started (a ramdisk may still read it).
    ///     on_progress: called with a `BootPhase` as each step starts, on the calling thread
    ///         with the GIL held. An exception it raises stops the boot where it is (as
    ///         Ctrl-C does; an inserted image stays inserted) and propagates.
    ///
    /// Returns:
    ///     A `BootReport`: the slot used, the reset sent, the last `BootProgress`, whether the
    ///     override had to be cleared, and every phase seen.
    ///
    /// Raises:
    ///     The errors of `insert`, then OverrideNotConsumedError or BootNeverStartedError.
    #[pyo3(signature = (image, *, timeout = 600.0, poll_interval = 2.0, eject_after = false, on_progress = None))]
    fn boot_from_iso<'py>(
        &self,
        py: Python<'py>,
        image: String,
        timeout: f64,
        poll_interval: f64,
        eject_after: bool,
        on_progress: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.boot_from_iso(
            py,
            Face::Blocking,
            image,
            timeout,
            poll_interval,
            eject_after,
            on_progress,
        )
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "VirtualMedia(system={})",
            PyString::new(py, &self.core.system()?).repr()?
        ))
    }
}

/// The asyncio twin of `VirtualMedia` (from `AsyncRedfishClient.virtual_media()`): each
/// method returns an awaitable of what the `VirtualMedia` method returns.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "AsyncVirtualMedia")]
pub(crate) struct PyAsyncVirtualMedia {
    core: MediaCore,
}

impl PyAsyncVirtualMedia {
    pub(crate) fn new(system: &System) -> PyAsyncVirtualMedia {
        PyAsyncVirtualMedia {
            core: MediaCore::new(system),
        }
    }
}

#[pymethods]
impl PyAsyncVirtualMedia {
    /// The system's path, such as `/redfish/v1/Systems/1`.
    #[getter]
    fn system(&self) -> PyResult<String> {
        self.core.system()
    }

    /// `VirtualMedia.allow_idrac_vmedia_boot_before_6()`: an `AsyncVirtualMedia` of the same
    /// system with the refusal lifted (`allow=False` restores it).
    #[pyo3(signature = (allow = true))]
    fn allow_idrac_vmedia_boot_before_6(&self, allow: bool) -> PyResult<PyAsyncVirtualMedia> {
        Ok(PyAsyncVirtualMedia {
            core: self.core.allowing_old_idrac_boot(allow)?,
        })
    }

    /// Awaitable `VirtualMedia.slots()`.
    fn slots<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core.slots(py, Face::Awaitable)
    }

    /// Awaitable `VirtualMedia.insert(image, media=...)`.
    #[pyo3(signature = (image, *, media = "cd"))]
    fn insert<'py>(
        &self,
        py: Python<'py>,
        image: String,
        media: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.insert(py, Face::Awaitable, image, media)
    }

    /// Awaitable `VirtualMedia.eject(slot)`.
    fn eject<'py>(&self, py: Python<'py>, slot: SlotArg) -> PyResult<Bound<'py, PyAny>> {
        self.core.eject(py, Face::Awaitable, slot)
    }

    /// Awaitable `VirtualMedia.eject_all(media)`.
    #[pyo3(signature = (media = None))]
    fn eject_all<'py>(&self, py: Python<'py>, media: Option<&str>) -> PyResult<Bound<'py, PyAny>> {
        self.core.eject_all(py, Face::Awaitable, media)
    }

    /// Awaitable `VirtualMedia.boot_from_iso(image, ...)`. `on_progress` is called with each
    /// `BootPhase` with the GIL held on a ferrofish thread (not the event loop's), so it
    /// should only record or hand over (`loop.call_soon_threadsafe`); an exception it raises
    /// stops the boot where it is and propagates.
    #[pyo3(signature = (image, *, timeout = 600.0, poll_interval = 2.0, eject_after = false, on_progress = None))]
    fn boot_from_iso<'py>(
        &self,
        py: Python<'py>,
        image: String,
        timeout: f64,
        poll_interval: f64,
        eject_after: bool,
        on_progress: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.core.boot_from_iso(
            py,
            Face::Awaitable,
            image,
            timeout,
            poll_interval,
            eject_after,
            on_progress,
        )
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "AsyncVirtualMedia(system={})",
            PyString::new(py, &self.core.system()?).repr()?
        ))
    }
}

/// One virtual-media slot as the BMC described it when it was read.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "VirtualMediaSlot")]
pub(crate) struct PyVirtualMediaSlot {
    slot: Slot,
}

#[pymethods]
impl PyVirtualMediaSlot {
    /// Its `@odata.id`.
    #[getter]
    fn path(&self) -> &str {
        &self.slot.path
    }

    /// Its `Id`.
    #[getter]
    fn id(&self) -> &str {
        &self.slot.id
    }

    /// `"system"` (under `Systems/{id}/VirtualMedia`) or `"manager"`.
    #[getter]
    fn level(&self) -> &'static str {
        match self.slot.level {
            SlotLevel::System => "system",
            SlotLevel::Manager => "manager",
        }
    }

    /// `MediaTypes`, such as `("CD", "DVD")`; empty when the BMC does not say.
    #[getter]
    fn media_types<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.slot.media_types)
    }

    /// `Inserted`; `None` when the BMC does not report it.
    #[getter]
    fn inserted(&self) -> Option<bool> {
        self.slot.inserted
    }

    /// `Image`, the URL inserted (whole: it may carry the image server's token; `repr` shows
    /// it redacted); `None` when empty.
    #[getter]
    fn image(&self) -> Option<&str> {
        self.slot.image.as_deref()
    }

    /// `ConnectedVia` (`"URI"`, `"Applet"`, `"NotConnected"`, ...).
    #[getter]
    fn connected_via(&self) -> Option<&str> {
        self.slot.connected_via.as_deref()
    }

    /// Whether the slot holds media (`Inserted` or `Image` says so).
    #[getter]
    fn occupied(&self) -> bool {
        self.slot.is_occupied()
    }

    /// Whether a remote URL can go in (the slot is not reserved for the vKVM applet).
    #[getter]
    fn remote_capable(&self) -> bool {
        self.slot.is_remote_capable()
    }

    /// True when the slot has no `InsertMedia` action, so inserts are a PATCH (Lenovo XCC).
    #[getter]
    fn patch_only(&self) -> bool {
        self.slot.insert_target.is_none()
    }

    /// HPE's `Oem.Hpe.BootOnNextServerReset`, when the slot has it.
    #[getter]
    fn hpe_boot_on_next_reset(&self) -> Option<bool> {
        self.slot.hpe_boot_on_next_reset
    }

    /// Whether the slot takes `media` (`"cd"` or `"usb"`), by its `MediaTypes`.
    fn accepts(&self, media: &str) -> PyResult<bool> {
        Ok(self.slot.accepts(media_kind(media)?))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let redacted = self.slot.image.as_deref().map(redact_url);
        let inserted = self.slot.inserted.map_or("None", py_bool);
        Ok(format!(
            "VirtualMediaSlot(path={}, level='{}', media_types={}, inserted={inserted}, image={})",
            PyString::new(py, &self.slot.path).repr()?,
            self.level(),
            self.media_types(py)?.repr()?,
            repr_opt(py, redacted.as_deref())?,
        ))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyVirtualMediaSlot>()
            .is_ok_and(|other| other.get().slot == self.slot)
    }

    fn __hash__(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        self.slot.path.hash(&mut hasher);
        self.slot.image.hash(&mut hasher);
        self.slot.inserted.hash(&mut hasher);
        hasher.finish()
    }
}

/// A step of `VirtualMedia.boot_from_iso`, reported as it starts. `name` is stable
/// (`ejecting_stale`, `inserting`, `waiting_for_task`, `setting_override`, `resetting`,
/// `waiting_for_boot`, `ejecting_at_end`); the other attributes are `None` where the step
/// has no such detail.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "BootPhase")]
pub(crate) struct PyBootPhase {
    phase: BootPhase,
}

#[pymethods]
impl PyBootPhase {
    /// The step's stable `snake_case` name.
    #[getter]
    fn name(&self) -> &'static str {
        self.phase.name()
    }

    /// A short line for a progress display.
    #[getter]
    fn description(&self) -> String {
        self.phase.describe()
    }

    /// The slot's path (`ejecting_stale`, `inserting`, `ejecting_at_end`).
    #[getter]
    fn slot(&self) -> Option<&str> {
        match &self.phase {
            BootPhase::EjectingStale { slot }
            | BootPhase::Inserting { slot }
            | BootPhase::EjectingAtEnd { slot } => Some(slot),
            _ => None,
        }
    }

    /// The insert's task monitor (`waiting_for_task`), when the BMC gave one.
    #[getter]
    fn monitor(&self) -> Option<&str> {
        match &self.phase {
            BootPhase::WaitingForTask { monitor } => monitor.as_deref(),
            _ => None,
        }
    }

    /// The reset sent (`resetting`): `ResetType.On` for a system that was off, else
    /// `ResetType.ForceRestart` (a `ferrofish.ResetType` member, equal to its string).
    #[getter]
    fn reset<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match &self.phase {
            BootPhase::Resetting { reset } => {
                crate::enums::known_value(py, "ResetType", reset.as_str()).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// `BootProgress.LastState` (`waiting_for_boot`), when reported.
    #[getter]
    fn last_state(&self) -> Option<&str> {
        match &self.phase {
            BootPhase::WaitingForBoot { last_state, .. } => last_state.as_deref(),
            _ => None,
        }
    }

    /// Whether the override is still pending (`waiting_for_boot`).
    #[getter]
    fn override_pending(&self) -> Option<bool> {
        match &self.phase {
            BootPhase::WaitingForBoot {
                override_pending, ..
            } => Some(*override_pending),
            _ => None,
        }
    }

    /// Whether HPE's `BootOnNextServerReset` is used instead of the override
    /// (`setting_override`).
    #[getter]
    fn hpe_boot_on_next_reset(&self) -> Option<bool> {
        match &self.phase {
            BootPhase::SettingOverride {
                hpe_boot_on_next_reset,
            } => Some(*hpe_boot_on_next_reset),
            _ => None,
        }
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "BootPhase(name='{}', description={})",
            self.phase.name(),
            PyString::new(py, &self.phase.describe()).repr()?
        ))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyBootPhase>()
            .is_ok_and(|other| other.get().phase == self.phase)
    }

    fn __hash__(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        self.phase.name().hash(&mut hasher);
        self.phase.describe().hash(&mut hasher);
        hasher.finish()
    }
}

/// What `VirtualMedia.boot_from_iso` did and saw.
#[pyclass(frozen, module = "ferrofish._ferrofish", name = "BootReport")]
pub(crate) struct PyBootReport {
    slot: Py<PyVirtualMediaSlot>,
    report: BootReport,
    phases: Vec<Py<PyBootPhase>>,
}

impl PyBootReport {
    fn new(
        py: Python<'_>,
        report: BootReport,
        phases: Vec<Py<PyBootPhase>>,
    ) -> PyResult<PyBootReport> {
        let slot = Py::new(
            py,
            PyVirtualMediaSlot {
                slot: report.slot.clone(),
            },
        )?;
        Ok(PyBootReport {
            slot,
            report,
            phases,
        })
    }
}

#[pymethods]
impl PyBootReport {
    /// The slot the image went into, as read back after the insert.
    #[getter]
    fn slot(&self, py: Python<'_>) -> Py<PyVirtualMediaSlot> {
        self.slot.clone_ref(py)
    }

    /// True when HPE's `BootOnNextServerReset` was used instead of the boot override.
    #[getter]
    fn hpe_boot_on_next_reset(&self) -> bool {
        self.report.hpe_boot_on_next_reset
    }

    /// The reset sent: `ResetType.On` for a system that was off, else
    /// `ResetType.ForceRestart` (a `ferrofish.ResetType` member, equal to its string).
    #[getter]
    fn reset<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::enums::known_value(py, "ResetType", self.report.reset.as_str())
    }

    /// The last `BootProgress.LastState` (`"OSBootStarted"`, `"OSRunning"`), when the BMC
    /// reports it.
    #[getter]
    fn boot_progress(&self) -> Option<&str> {
        self.report.boot_progress.as_deref()
    }

    /// The BMC stored the one-time override as `Continuous`, so it was cleared after the boot.
    #[getter]
    fn override_stored_as_continuous(&self) -> bool {
        self.report.override_stored_as_continuous
    }

    /// Whether that clearing took. False together with `override_stored_as_continuous` means
    /// the system still boots from CD: clear the override yourself.
    #[getter]
    fn override_cleared(&self) -> bool {
        self.report.override_cleared
    }

    /// Whether the image was ejected at the end (`eject_after=True`).
    #[getter]
    fn ejected(&self) -> bool {
        self.report.ejected
    }

    /// Every phase reported, in order.
    #[getter]
    fn phases<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.phases.iter().map(|phase| phase.clone_ref(py)))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "BootReport(slot={}, reset='{}', boot_progress={}, hpe_boot_on_next_reset={}, \
             override_stored_as_continuous={}, override_cleared={}, ejected={})",
            self.slot.bind(py).repr()?,
            self.report.reset.as_str(),
            repr_opt(py, self.report.boot_progress.as_deref())?,
            py_bool(self.report.hpe_boot_on_next_reset),
            py_bool(self.report.override_stored_as_continuous),
            py_bool(self.report.override_cleared),
            py_bool(self.report.ejected),
        ))
    }
}

/// Adds the virtual-media classes and functions to the module.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyVirtualMedia>()?;
    module.add_class::<PyVirtualMediaSlot>()?;
    module.add_class::<PyBootPhase>()?;
    module.add_class::<PyBootReport>()?;
    server::register(module)?;
    config_drive::register(module)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::media_word;

    fn slot(path: &str, id: &str) -> Slot {
        Slot::from_json(
            SlotLevel::Manager,
            &serde_json::json!({"@odata.id": path, "Id": id}),
        )
        .unwrap()
    }

    #[test]
    fn a_slot_is_found_by_path_or_by_an_id_only_one_slot_has() {
        let slots = [
            slot("/redfish/v1/Systems/1/VirtualMedia/1", "1"),
            slot("/redfish/v1/Managers/1/VirtualMedia/1", "1"),
            slot("/redfish/v1/Managers/1/VirtualMedia/CD", "CD"),
        ];
        assert_eq!(
            find_slot(&slots, "/redfish/v1/Managers/1/VirtualMedia/1")
                .unwrap()
                .path,
            "/redfish/v1/Managers/1/VirtualMedia/1"
        );
        assert_eq!(
            find_slot(&slots, "CD").unwrap().path,
            "/redfish/v1/Managers/1/VirtualMedia/CD"
        );
        let ambiguous = find_slot(&slots, "1").unwrap_err();
        assert!(ambiguous.starts_with("several slots"), "{ambiguous}");
        let missing = find_slot(&slots, "USB").unwrap_err();
        assert!(
            missing.contains("/redfish/v1/Managers/1/VirtualMedia/CD"),
            "{missing}"
        );
    }

    #[test]
    fn image_urls_need_a_scheme_and_the_refusal_shows_them_redacted() {
        assert!(check_image_url("http://10.0.0.1:8080/tok/boot.iso").is_ok());
        assert!(check_image_url("nfs://filer/export/boot.iso").is_ok());
        for bad in ["", "boot.iso", "://x", "http://", "/tmp/boot.iso"] {
            assert!(check_image_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn media_words_are_cd_and_usb() {
        assert_eq!(media_kind("cd").unwrap(), MediaKind::Cd);
        assert_eq!(media_kind("USB").unwrap(), MediaKind::Removable);
        assert_eq!(media_word(MediaKind::Removable), "usb");
        assert!(media_kind("floppy").is_err());
    }
}
