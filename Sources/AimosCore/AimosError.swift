/// An error of the engine: a kind (mapped one to one onto the C status codes) and a message
/// that names the problem, ready to show to a user.
package struct AimosError: Error, CustomStringConvertible {
    package enum Kind: Int32 {
        case invalidArgument = 1
        case io = 2
        case format = 3
        case unsupported = 4
        case outOfMemory = 5
        case cancelled = 6
        case `internal` = 7
    }

    package let kind: Kind
    package let message: String

    package init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    package var description: String { message }

    static func invalid(_ message: String) -> AimosError { AimosError(.invalidArgument, message) }
    static func format(_ message: String) -> AimosError { AimosError(.format, message) }
}
