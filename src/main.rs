fn main() -> std::process::ExitCode {
    kmsdns::main_entry()
}
