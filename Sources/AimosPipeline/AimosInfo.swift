/// The version and name that aimos writes into its outputs.
public enum AimosInfo {
    /// Static: the C ABI's aimos_version returns it as a C string with no copy.
    public static let version: StaticString = "1.0.0"
}
