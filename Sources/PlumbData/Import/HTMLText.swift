import Foundation

/// HTML bodies (Stack Exchange posts) as plain text: tags dropped, block elements (`p`, `div`,
/// headings, `pre`, `blockquote`, list items) as line breaks, `li` as "- ", `br` as a newline,
/// whitespace collapsed outside `pre`, entities decoded (named: amp, lt, gt, quot, apos, nbsp;
/// numeric: decimal and hex; an unknown name stays as written). It does not parse, and the row is
/// quarantined `invalid_html`, when a tag or comment is never closed by `>` / `-->`, or when an
/// end tag closes no open element (void elements such as `br`, `img`, `hr` need no end tag).
enum HTMLText {
    struct Problem: Error, Equatable { var detail: String }

    private static let blocks: Set<String> = ["p", "div", "pre", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol",
                                              "li", "table", "tr", "hr"]
    private static let void: Set<String> = ["br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed",
                                            "source", "track", "wbr"]
    private static let entities: [String: String] = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "#39": "'"]

    static func text(_ html: String) throws -> String {
        let chars = Array(html.unicodeScalars)
        var out = String.UnicodeScalarView()
        var open: [String] = []
        var index = 0
        func newline(_ count: Int) {
            var trailing = 0
            while let last = out.last, last == " " { out.removeLast() }
            for scalar in out.reversed() { if scalar == "\n" { trailing += 1 } else { break } }
            if !out.isEmpty, trailing < count { for _ in trailing..<count { out.append("\n") } }
        }
        while index < chars.count {
            let c = chars[index]
            if c == "<", index + 1 < chars.count, chars[index + 1].properties.isAlphabetic || chars[index + 1] == "/" || chars[index + 1] == "!" {
                if chars[index + 1] == "!" && index + 3 < chars.count && chars[index + 2] == "-" && chars[index + 3] == "-" {
                    guard let end = find(chars, "-->", from: index + 4) else {
                        throw Problem(detail: "a comment opened at character \(index) never closes")
                    }
                    index = end + 3
                    continue
                }
                guard let close = chars[index...].firstIndex(of: ">") else {
                    throw Problem(detail: "a tag opened at character \(index) never closes with '>'")
                }
                let body = String(String.UnicodeScalarView(chars[(index + 1)..<close]))
                let closing = body.hasPrefix("/")
                let name = String(body.drop { $0 == "/" }.prefix { $0.isLetter || $0.isNumber }).lowercased()
                if closing {
                    guard let at = open.lastIndex(of: name) else {
                        throw Problem(detail: "the end tag </\(name)> at character \(index) closes no open element")
                    }
                    open.removeSubrange(at...)
                } else if !void.contains(name) && !body.hasSuffix("/") && !name.isEmpty {
                    open.append(name)
                }
                if name == "br" { out.append("\n") }
                else if name == "li" && !closing { newline(1); out.append(contentsOf: "- ".unicodeScalars) }
                else if blocks.contains(name) { newline(name == "li" ? 1 : 2) }
                index = close + 1
                continue
            }
            if c == "&", let semicolon = chars[index...].prefix(10).firstIndex(of: ";") {
                let name = String(String.UnicodeScalarView(chars[(index + 1)..<semicolon]))
                if let decoded = decode(name) {
                    out.append(contentsOf: decoded.unicodeScalars)
                    index = semicolon + 1
                    continue
                }
            }
            if c.properties.isWhitespace && !open.contains("pre") {
                if let last = out.last, !last.properties.isWhitespace { out.append(" ") }
            } else {
                out.append(c)
            }
            index += 1
        }
        return String(out).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func decode(_ name: String) -> String? {
        if let named = entities[name] { return named }
        guard name.hasPrefix("#") else { return nil }
        let digits = name.dropFirst()
        let value = digits.first == "x" || digits.first == "X" ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
        return value.flatMap(Unicode.Scalar.init).map { String($0) }
    }

    private static func find(_ chars: [Unicode.Scalar], _ needle: String, from start: Int) -> Int? {
        let pattern = Array(needle.unicodeScalars)
        guard chars.count >= pattern.count else { return nil }
        var index = start
        while index + pattern.count <= chars.count {
            if Array(chars[index..<(index + pattern.count)]) == pattern { return index }
            index += 1
        }
        return nil
    }
}
