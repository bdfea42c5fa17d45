//! Embeds every file in `commands/` so a command added there appears in the parser, the help,
//! the Slack manifest and the Discord registration without touching Rust code.
use std::{env, fs, path::Path};

fn main() {
    println!("cargo:rerun-if-changed=commands");
    let mut files: Vec<_> = fs::read_dir("commands")
        .expect("commands/ directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out = String::from("&[\n");
    for f in files {
        let abs = fs::canonicalize(&f).expect("command file path");
        out.push_str(&format!(
            "    ({:?}, include_str!({:?})),\n",
            f.file_name().unwrap().to_string_lossy(),
            abs.display().to_string()
        ));
    }
    out.push_str("]\n");
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("command_files.rs");
    fs::write(dest, out).expect("write command_files.rs");
}
