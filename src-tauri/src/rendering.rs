//! WebKitGTK's rendering mode, chosen before the window opens: CPU rendering when there is no GPU.
//!
//! WebKitGTK composites pages with OpenGL. Without a GPU (a VM, a remote or headless session,
//! Xvfb) that OpenGL is Mesa's llvmpipe, a software renderer: it still loads LLVM into the
//! web process and costs about 100 MiB more there than WebKit's own CPU rendering, for no
//! speed gain. So when no DRM render node can be opened, [`choose`] sets
//! `WEBKIT_DISABLE_COMPOSITING_MODE=1`; with a GPU nothing changes. A value the user set is
//! kept, except `0`, which is removed so that it means "composite" whatever the WebKit
//! version (older ones treat any value as "disable").
//!
//! Known cost: in CPU mode WebKitWebDriver's screenshot command never answers (WebKitGTK
//! 2.50), so the end-to-end test (tests/run.sh) runs with `WEBKIT_DISABLE_COMPOSITING_MODE=0`.

use std::path::Path;

/// The variable WebKitGTK reads to turn accelerated compositing off.
pub const DISABLE_COMPOSITING: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// What [`choose`] decided (for the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendering {
    /// `WEBKIT_DISABLE_COMPOSITING_MODE` was set by the user: left to WebKit.
    UserChoice,
    /// A GPU render node is usable: WebKit's default (GPU compositing).
    Gpu,
    /// No usable GPU: compositing turned off, WebKit renders on the CPU.
    CpuWithoutGpu,
}

/// Whether `dri` (normally `/dev/dri`) holds a DRM render node this process can open.
pub fn has_render_node(dri: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dri) else {
        return false;
    };
    entries.flatten().any(|entry| {
        entry.file_name().to_string_lossy().starts_with("renderD")
            && std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(entry.path())
                .is_ok()
    })
}

/// Sets WebKit's rendering mode through its environment variable (see the module doc).
/// Call it first thing in `main`, before any thread exists: it changes the environment.
pub fn choose() -> Rendering {
    match std::env::var(DISABLE_COMPOSITING) {
        Ok(value) if value == "0" => {
            std::env::remove_var(DISABLE_COMPOSITING);
            return Rendering::UserChoice;
        }
        Ok(_) => return Rendering::UserChoice,
        Err(_) => {}
    }
    if !cfg!(target_os = "linux") || has_render_node(Path::new("/dev/dri")) {
        return Rendering::Gpu;
    }
    std::env::set_var(DISABLE_COMPOSITING, "1");
    Rendering::CpuWithoutGpu
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_node_found_only_when_present_and_openable() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!has_render_node(&dir.path().join("missing")));
        assert!(!has_render_node(dir.path()));
        std::fs::write(dir.path().join("card0"), b"").unwrap();
        assert!(
            !has_render_node(dir.path()),
            "a card node is not a render node"
        );
        std::fs::write(dir.path().join("renderD128"), b"").unwrap();
        assert!(has_render_node(dir.path()));
    }
}
