/// The version and name that aimos writes into its outputs.
package enum AimosInfo {
    /// Static: the C ABI's aimos_version returns it as a C string with no copy.
    package static let version: StaticString = "1.2.0"
}
