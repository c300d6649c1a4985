//! The file dialogs the pages open: what each one asks (a
//! [`DialogRequest`]: open files, a folder, or a name to save under, with
//! a title, filters, a suggested name and folder) and who answers it. The
//! app's [`Chooser`] is the desktop's dialog through rfd, opened on the UI
//! thread (where macOS wants it) and awaited on a `spaceport-dialog`
//! worker; tests put a stand-in there that answers with given paths, so
//! the buttons and what follows them run as they do for a person.

use std::path::PathBuf;
use std::sync::Arc;

use crate::workers::Dialog;

/// Which dialog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogKind {
    /// One or more files to open.
    OpenFiles,
    /// One folder.
    OpenFolder,
    /// A file name to save under.
    Save,
}

/// What a page asks of a file dialog.
#[derive(Clone, Debug)]
pub struct DialogRequest {
    pub kind: DialogKind,
    pub title: String,
    /// (name, extensions) pairs, in the order offered.
    pub filters: Vec<(String, Vec<String>)>,
    /// The name suggested when saving.
    pub file_name: Option<String>,
    /// The folder the dialog starts in.
    pub directory: Option<PathBuf>,
}

impl DialogRequest {
    pub fn new(kind: DialogKind, title: &str) -> Self {
        Self {
            kind,
            title: title.to_string(),
            filters: Vec::new(),
            file_name: None,
            directory: None,
        }
    }

    pub fn filter(mut self, name: &str, extensions: &[&str]) -> Self {
        self.filters.push((
            name.to_string(),
            extensions.iter().map(|e| e.to_string()).collect(),
        ));
        self
    }

    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = Some(name.into());
        self
    }

    pub fn directory(mut self, dir: Option<PathBuf>) -> Self {
        self.directory = dir;
        self
    }
}

/// Opens a dialog for a request; what it yields is awaited on a worker
/// (the paths chosen; none when cancelled).
pub type Chooser = Arc<dyn Fn(&DialogRequest) -> Dialog + Send + Sync>;

/// Why no file dialog can open on this desktop, if none can: on Linux rfd
/// asks the XDG desktop portal (over the session's D-Bus) and falls back
/// to `zenity`; a bare window manager may have neither, and rfd then
/// answers as if the dialog had been cancelled.
pub fn unavailable() -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    unavailable_in(|k| std::env::var_os(k))
}

/// [`unavailable`] with the environment read through `var`.
fn unavailable_in(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<String> {
    let on_path = |name: &str| {
        var("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
    };
    if on_path("zenity") {
        return None;
    }
    let data_dirs = var("XDG_DATA_DIRS")
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "/usr/local/share:/usr/share".into());
    let dirs: Vec<PathBuf> = std::env::split_paths(&data_dirs).collect();
    let bus = var("DBUS_SESSION_BUS_ADDRESS").is_some()
        || var("XDG_RUNTIME_DIR").is_some_and(|d| std::path::Path::new(&d).join("bus").exists());
    let portal = dirs.iter().any(|d| {
        d.join("dbus-1/services/org.freedesktop.portal.Desktop.service")
            .is_file()
    });
    // A portal back end that shows file choosers (gtk, gnome, kde, …).
    let chooser = dirs.iter().any(|d| {
        std::fs::read_dir(d.join("xdg-desktop-portal/portals"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                std::fs::read_to_string(e.path())
                    .is_ok_and(|t| t.contains("org.freedesktop.impl.portal.FileChooser"))
            })
    });
    if bus && portal && chooser {
        return None;
    }
    Some(
        "No file dialog can open on this desktop (it has no file-chooser portal, and zenity is \
         not installed). Type or paste the path into the field instead, or install \
         xdg-desktop-portal-gtk or zenity."
            .into(),
    )
}

/// The desktop's file dialog (rfd: the XDG portal on Linux, else zenity);
/// where neither is there, the dialog says so instead of answering as if
/// cancelled.
pub fn system() -> Chooser {
    Arc::new(|req: &DialogRequest| {
        let mut d = rfd::AsyncFileDialog::new().set_title(&req.title);
        for (name, exts) in &req.filters {
            d = d.add_filter(name, exts);
        }
        if let Some(name) = &req.file_name {
            d = d.set_file_name(name);
        }
        if let Some(dir) = &req.directory {
            d = d.set_directory(dir);
        }
        let paths = |h: Option<rfd::FileHandle>| h.map(|h| vec![h.path().to_path_buf()]);
        match req.kind {
            DialogKind::OpenFiles => {
                let f = d.pick_files();
                Dialog(Box::pin(async move {
                    // Looked at here, on the worker that awaits the dialog.
                    if let Some(why) = unavailable() {
                        return Err(why);
                    }
                    Ok(f.await
                        .unwrap_or_default()
                        .into_iter()
                        .map(|h| h.path().to_path_buf())
                        .collect())
                }))
            }
            DialogKind::OpenFolder => {
                let f = d.pick_folder();
                Dialog(Box::pin(async move {
                    if let Some(why) = unavailable() {
                        return Err(why);
                    }
                    Ok(paths(f.await).unwrap_or_default())
                }))
            }
            DialogKind::Save => {
                let f = d.save_file();
                Dialog(Box::pin(async move {
                    if let Some(why) = unavailable() {
                        return Err(why);
                    }
                    Ok(paths(f.await).unwrap_or_default())
                }))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    #[test]
    fn a_desktop_without_portal_or_zenity_is_told_so() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = tmp.path().join("bin");
        let share = tmp.path().join("share");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&share).unwrap();
        let env = |bus: bool| {
            let (bin, share) = (bin.clone(), share.clone());
            move |k: &str| -> Option<OsString> {
                match k {
                    "PATH" => Some(bin.clone().into_os_string()),
                    "XDG_DATA_DIRS" => Some(share.clone().into_os_string()),
                    "DBUS_SESSION_BUS_ADDRESS" if bus => Some("unix:path=/run/bus".into()),
                    _ => None,
                }
            }
        };
        let why = unavailable_in(env(true)).expect("nothing to show a dialog");
        assert!(why.contains("Type or paste the path"), "{why}");
        // A portal with a file chooser back end, on a session bus.
        let services = share.join("dbus-1/services");
        std::fs::create_dir_all(&services).unwrap();
        std::fs::write(
            services.join("org.freedesktop.portal.Desktop.service"),
            "[D-BUS Service]\n",
        )
        .unwrap();
        let portals = share.join("xdg-desktop-portal/portals");
        std::fs::create_dir_all(&portals).unwrap();
        std::fs::write(
            portals.join("gtk.portal"),
            "[portal]\nInterfaces=org.freedesktop.impl.portal.FileChooser;\n",
        )
        .unwrap();
        assert_eq!(unavailable_in(env(true)), None);
        assert!(unavailable_in(env(false)).is_some(), "no session bus");
        // zenity alone is enough.
        std::fs::remove_dir_all(share.join("dbus-1")).unwrap();
        std::fs::write(bin.join("zenity"), "#!/bin/sh\n").unwrap();
        assert_eq!(unavailable_in(env(false)), None);
    }
}
