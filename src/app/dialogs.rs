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

/// The desktop's file dialog (rfd: the XDG portal on Linux).
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
                    f.await
                        .unwrap_or_default()
                        .into_iter()
                        .map(|h| h.path().to_path_buf())
                        .collect()
                }))
            }
            DialogKind::OpenFolder => {
                let f = d.pick_folder();
                Dialog(Box::pin(async move { paths(f.await).unwrap_or_default() }))
            }
            DialogKind::Save => {
                let f = d.save_file();
                Dialog(Box::pin(async move { paths(f.await).unwrap_or_default() }))
            }
        }
    })
}
