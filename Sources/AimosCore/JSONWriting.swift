/// aimos's one JSON writer: every JSON file and message aimos produces (organ tables, metrics,
/// plausibility reports, the label map's header extension, bench results) is a JSONValue
/// written here, so quoting, numbers and layout are the same everywhere.
extension JSONValue {
    /// A finite number, or null (JSON has no NaN or infinity).
    package static func real(_ x: Double) -> JSONValue { x.isFinite ? .number(x, isInteger: false) : .null }
    package static func int(_ n: Int) -> JSONValue { .number(Double(n), isInteger: true) }
    /// A real, or null when absent.
    package static func real(_ x: Double?) -> JSONValue { x.map { real($0) } ?? .null }

    /// The text: `pretty` breaks an object or array that holds objects or arrays over lines
    /// (two spaces per level), keeping flat ones (a table row) on one line.
    package func serialized(pretty: Bool = false) -> String {
        var out = ""
        write(to: &out, pretty: pretty, indent: 0)
        return out
    }

    private var isFlat: Bool {
        switch self {
        case let .array(items): return !items.contains { $0.isContainer }
        case let .object(members): return !members.contains { $0.1.isContainer }
        default: return true
        }
    }

    private var isContainer: Bool {
        switch self {
        case .array, .object: return true
        default: return false
        }
    }

    private func write(to out: inout String, pretty: Bool, indent: Int) {
        switch self {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .number(x, isInteger):
            if !x.isFinite { out += "null" } else if isInteger, abs(x) < 9.2e18 { out += String(Int64(x)) } else { out += String(x) }
        case let .string(s): out += JSONValue.quoted(s)
        case let .array(items):
            writeContainer(items.map { (nil, $0) }, open: "[", close: "]", to: &out, pretty: pretty, indent: indent)
        case let .object(members):
            writeContainer(members.map { ($0.0, $0.1) }, open: "{", close: "}", to: &out, pretty: pretty, indent: indent)
        }
    }

    private func writeContainer(_ items: [(String?, JSONValue)], open: String, close: String, to out: inout String,
                                pretty: Bool, indent: Int) {
        let broken = pretty && !isFlat && !items.isEmpty
        let inner = String(repeating: "  ", count: indent + 1)
        out += open
        for (i, (key, value)) in items.enumerated() {
            if i > 0 { out += broken ? "," : ", " }
            if broken { out += "\n" + inner }
            if let key = key { out += JSONValue.quoted(key) + ": " }
            value.write(to: &out, pretty: pretty, indent: indent + 1)
        }
        if broken { out += "\n" + String(repeating: "  ", count: indent) }
        out += close
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    package static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
