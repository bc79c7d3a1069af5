/// The version and name that aimos writes into its outputs.
public enum AimosInfo {
    public static let version = "0.1.0"
}
