//! The `uniffi-bindgen` command, built from the same uniffi version as `twinsync-uniffi`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
