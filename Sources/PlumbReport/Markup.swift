// Text for XHTML and SVG: escaping, and numbers written briefly.
import Foundation

enum Markup {
    /// `text` with the five XML special characters escaped, for element content and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    /// A coordinate to one decimal.
    static func coordinate(_ v: Double) -> String { String(format: "%.1f", v) }

    /// A figure to four significant digits, integers as integers.
    static func figure(_ v: Double) -> String {
        if !v.isFinite { return "\(v)" }
        if v == v.rounded() && abs(v) < 1e9 { return String(Int(v)) }
        return String(format: "%.4g", v)
    }
}
