// Decoding a stage's `Parameters` from keys and text values, as a pipeline file or a command line
// gives them: one spelling serves as Swift property, file key and flag (`maxNewTokens` is
// `max-new-tokens`). The values are laid over `Parameters()`, so an absent key keeps its default;
// a key the type does not have, or a value that does not parse as the property's type, is an error
// naming the key and where it was written, with the accepted keys listed. The keys of an embedded
// `ParameterGroup` are the stage's own keys (`lr`, not `optimisation.lr`); the JSON of the
// parameters (manifest config, cache key) keeps the group as a nested object.
import Foundation
import PlumbStore

/// One key with its values (several for a list) and where it was written (`file:line`, or `--flag`).
public struct ParameterEntry: Sendable, Equatable {
    public var key: String
    public var values: [String]
    public var place: String
    public init(key: String, values: [String], place: String) { self.key = key; self.values = values; self.place = place }
}

/// A value that does not fit its parameter, or a key the stage does not take.
public struct ParameterDecodingError: Error, CustomStringConvertible {
    public var place: String
    public var key: String
    public var message: String
    public var description: String { "\(place): \(key): \(message)" }
}

public enum ParameterKeys {
    /// `maxNewTokens` -> `max-new-tokens` (keys with no capital, such as `hidden_size`, stay).
    public static func key(ofProperty name: String) -> String {
        var out = ""
        for character in name {
            if character.isUppercase { out += "-" + character.lowercased() } else { out.append(character) }
        }
        return out
    }

    /// The keys `P` accepts, in declaration order: every property its decoder asks for, a group's
    /// properties in the group's place. Two properties of one name (in two groups, or a group's and
    /// the stage's own) are an error: a key must name one property.
    public static func accepted<P: StageParameters>(_ type: P.Type) throws -> [String] {
        try properties(type).map(key(ofProperty:))
    }

    /// The keys whose default is a list (`data-weight`, `mix`): a command line gives them by
    /// repeating the flag, where another key's later flag replaces an earlier one.
    public static func listKeys<P: StageParameters>(_ type: P.Type) throws -> [String] {
        try keys(type) { if case .array = $0 { return true } else { return false } }
    }

    /// The keys whose default is true or false (`keep-ties`): a command line may give them alone.
    public static func flagKeys<P: StageParameters>(_ type: P.Type) throws -> [String] {
        try keys(type) { if case .bool = $0 { return true } else { return false } }
    }

    /// The keys whose default value satisfies `test`.
    private static func keys<P: StageParameters>(_ type: P.Type, whereDefault test: (JSONValue) -> Bool) throws -> [String] {
        try defaults(type).filter { $0.value.map(test) ?? false }.map(\.key)
    }

    /// Every key with its default's JSON (nil for a key without one: an optional left unset), in
    /// declaration order.
    public static func defaults<P: StageParameters>(_ type: P.Type) throws -> [(key: String, value: JSONValue?)] {
        let recorder = try record(type)
        let defaults = try JSONValue(encoding: P())
        return recorder.keys.map { name in
            var value: JSONValue? = defaults
            if recorder.owners[name] != KeyRecorder.stage {
                for group in recorder.owners[name]!.split(separator: ".") {
                    guard case .object(let object)? = value else { return (key(ofProperty: name), nil) }
                    value = object[String(group)]
                }
            }
            guard case .object(let object)? = value else { return (key(ofProperty: name), nil) }
            return (key(ofProperty: name), object[name])
        }
    }

    /// The property names `P`'s decoder asks for, groups flattened.
    static func properties<P: StageParameters>(_ type: P.Type) throws -> [String] {
        try record(type).keys
    }

    private static func record<P: StageParameters>(_ type: P.Type) throws -> KeyRecorder {
        let recorder = KeyRecorder()
        _ = try P(from: ParameterNodeDecoder(node: .json(try JSONValue(encoding: P())), path: [], place: "", recorder: recorder, given: [:]))
        if let (name, owners) = recorder.conflicts.first {
            throw ParameterDecodingError(place: "", key: key(ofProperty: name),
                                         message: "\(P.self) has two properties of this name (in \(owners.joined(separator: " and "))): a key must name one property")
        }
        return recorder
    }

    /// `P()` with `entries` laid over it.
    public static func decode<P: StageParameters>(_ type: P.Type, _ entries: [ParameterEntry], kind: StageKind) throws -> P {
        let properties = try properties(type)
        let accepted = properties.map(key(ofProperty:))
        let defaults = try JSONValue(encoding: P())
        guard case .object = defaults else {
            throw ParameterDecodingError(place: "", key: "", message: "\(kind)'s parameters do not encode as an object")
        }
        var given: [String: ParameterNode] = [:]
        for entry in entries {
            guard let index = accepted.firstIndex(of: entry.key) else {
                throw ParameterDecodingError(place: entry.place, key: entry.key,
                                             message: "\(kind) has no parameter `\(entry.key)` (accepted: \(accepted.joined(separator: ", ")))")
            }
            given[properties[index]] = .text(entry.values, place: entry.place, key: entry.key)
        }
        do {
            return try P(from: ParameterNodeDecoder(node: .json(defaults), path: [], place: "", recorder: nil, given: given))
        } catch DecodingError.dataCorrupted(let context) {
            // A value type's own check (e.g. a rule parsed from its text) failed: name where the value was written.
            let names = [context.codingPath.first, context.codingPath.last].compactMap { $0?.stringValue }
            guard let node = names.lazy.compactMap({ given[$0] }).first, case .text(_, let place, let key) = node else {
                throw DecodingError.dataCorrupted(context)
            }
            throw ParameterDecodingError(place: place, key: key, message: context.debugDescription)
        }
    }
}

/// A parameter's value: the default's JSON, or text as written.
indirect enum ParameterNode {
    case json(JSONValue)
    case text([String], place: String, key: String)
    case object([String: ParameterNode])
}

/// The property names a decoding asks for, and which group (coding path) each belongs to.
final class KeyRecorder {
    var keys: [String] = []
    var owners: [String: String] = [:]
    var conflicts: [(String, [String])] = []
    static let stage = "the stage"
    func note(_ key: String, owner: [CodingKey]) {
        let group = owner.isEmpty ? Self.stage : owner.map(\.stringValue).joined(separator: ".")
        if let first = owners[key] {
            if first != group && !conflicts.contains(where: { $0.0 == key }) { conflicts.append((key, [first, group])) }
            return
        }
        owners[key] = group
        keys.append(key)
    }
}

/// A Decoder over a `ParameterNode`; text is parsed into the type asked for.
struct ParameterNodeDecoder: Decoder {
    let node: ParameterNode
    let path: [CodingKey]
    let place: String
    /// Records the keys asked for (used once, over the defaults), the stage's and its groups'.
    let recorder: KeyRecorder?
    /// Values as written, by property name, for the stage's own properties and its groups'.
    let given: [String: ParameterNode]

    var codingPath: [CodingKey] { path }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        switch node {
        case .object(let nodes): return KeyedDecodingContainer(NodeKeyed<Key>(nodes: nodes, decoder: self))
        case .json(.object(let object)): return KeyedDecodingContainer(NodeKeyed<Key>(nodes: object.mapValues { .json($0) }, decoder: self))
        case .text(_, let place, let key):
            throw ParameterDecodingError(place: place, key: key, message: "expected a group of keys, not a value")
        case .json: throw DecodingError.typeMismatch([String: Any].self, .init(codingPath: path, debugDescription: "expected an object"))
        }
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        switch node {
        case .json(.array(let items)): return NodeUnkeyed(items: items.map { .json($0) }, decoder: self)
        case .json(.null): return NodeUnkeyed(items: [], decoder: self)
        case .text(let values, let place, let key):
            return NodeUnkeyed(items: values.map { .text([$0], place: place, key: key) }, decoder: self)
        default: throw DecodingError.typeMismatch([Any].self, .init(codingPath: path, debugDescription: "expected a list"))
        }
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer { NodeSingle(decoder: self) }

    /// The decoder of a value inside a property: the keys as written do not reach into it.
    func child(_ node: ParameterNode, _ key: CodingKey) -> ParameterNodeDecoder {
        ParameterNodeDecoder(node: node, path: path + [key], place: place, recorder: nil, given: [:])
    }

    /// The decoder of an embedded group: its properties take the keys as written, as the stage's do.
    func group(_ node: ParameterNode, _ key: CodingKey) -> ParameterNodeDecoder {
        ParameterNodeDecoder(node: node, path: path + [key], place: place, recorder: recorder, given: given)
    }
}

struct NodeKeyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let nodes: [String: ParameterNode]
    let decoder: ParameterNodeDecoder
    var codingPath: [CodingKey] { decoder.path }
    var allKeys: [Key] { Set(nodes.keys).union(decoder.given.keys).compactMap { Key(stringValue: $0) } }

    /// The value of `key`: as written, else the default's.
    func node(_ key: Key) -> ParameterNode? { decoder.given[key.stringValue] ?? nodes[key.stringValue] }

    func contains(_ key: Key) -> Bool {
        decoder.recorder?.note(key.stringValue, owner: codingPath)
        return node(key) != nil
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        decoder.recorder?.note(key.stringValue, owner: codingPath)
        guard let node = node(key) else { return true }
        if case .json(.null) = node { return true }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try decode(T: type, forKey: key) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decode(T: type, forKey: key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decode(T: type, forKey: key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decode(T: type, forKey: key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decode(T: type, forKey: key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decode(T: type, forKey: key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decode(T: type, forKey: key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decode(T: type, forKey: key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decode(T: type, forKey: key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decode(T: type, forKey: key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decode(T: type, forKey: key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decode(T: type, forKey: key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decode(T: type, forKey: key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decode(T: type, forKey: key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decode(T: type, forKey: key) }

    private func decode<T: Decodable>(T type: T.Type, forKey key: Key) throws -> T {
        if type is ParameterGroup.Type {
            return try T(from: decoder.group(nodes[key.stringValue] ?? .json(.object([:])), key))
        }
        decoder.recorder?.note(key.stringValue, owner: codingPath)
        guard let node = node(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no value for \(key.stringValue)"))
        }
        return try T(from: decoder.child(node, key))
    }

    func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) throws -> KeyedDecodingContainer<N> {
        try decoder.child(nodes[key.stringValue] ?? .json(.null), key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try decoder.child(nodes[key.stringValue] ?? .json(.null), key).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> Decoder { decoder.child(nodes[key.stringValue] ?? .json(.null), key) }
}

struct NodeUnkeyed: UnkeyedDecodingContainer {
    let items: [ParameterNode]
    let decoder: ParameterNodeDecoder
    var currentIndex = 0
    var codingPath: [CodingKey] { decoder.path }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    struct Index: CodingKey {
        var stringValue: String { "\(intValue!)" }
        var intValue: Int?
        init(_ i: Int) { intValue = i }
        init?(stringValue: String) { nil }
        init?(intValue: Int) { self.intValue = intValue }
    }

    mutating func decodeNil() throws -> Bool { false }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next(type) }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type) }
    mutating func decode(_ type: String.Type) throws -> String { try next(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(type) }
    private mutating func next<T: Decodable>(_ type: T.Type) throws -> T {
        defer { currentIndex += 1 }
        return try T(from: decoder.child(items[currentIndex], Index(currentIndex)))
    }
    mutating func nestedContainer<N: CodingKey>(keyedBy type: N.Type) throws -> KeyedDecodingContainer<N> {
        defer { currentIndex += 1 }
        return try decoder.child(items[currentIndex], Index(currentIndex)).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        defer { currentIndex += 1 }
        return try decoder.child(items[currentIndex], Index(currentIndex)).unkeyedContainer()
    }
    mutating func superDecoder() throws -> Decoder { decoder }
}

/// One value: JSON through JSONDecoder; text parsed as the type asked for.
struct NodeSingle: SingleValueDecodingContainer {
    let decoder: ParameterNodeDecoder
    var codingPath: [CodingKey] { decoder.path }

    func decodeNil() -> Bool {
        if case .json(.null) = decoder.node { return true }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try value(type) }
    func decode(_ type: Bool.Type) throws -> Bool { try value(type) }
    func decode(_ type: String.Type) throws -> String { try value(type) }
    func decode(_ type: Double.Type) throws -> Double { try value(type) }
    func decode(_ type: Float.Type) throws -> Float { try value(type) }
    func decode(_ type: Int.Type) throws -> Int { try value(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try value(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try value(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try value(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try value(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try value(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try value(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try value(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try value(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try value(type) }

    private func value<T: Decodable>(_ type: T.Type) throws -> T {
        switch decoder.node {
        case .json(let value):
            return try JSONDecoder().decode(T.self, from: try value.canonicalJSON())
        case .text(let values, let place, let key):
            guard values.count == 1 else { throw ParameterDecodingError(place: place, key: key, message: "expected one value, got \(values.count)") }
            return try Self.parse(values[0], as: T.self, place: place, key: key)
        case .object:
            throw DecodingError.typeMismatch(T.self, .init(codingPath: codingPath, debugDescription: "expected a value, not a group"))
        }
    }

    /// `text` as a `T`: numbers and booleans by their spelling, strings (and string enums) as written.
    static func parse<T: Decodable>(_ text: String, as type: T.Type, place: String, key: String) throws -> T {
        func fail(_ what: String) -> ParameterDecodingError {
            ParameterDecodingError(place: place, key: key, message: "\"\(text)\" is not \(what)")
        }
        switch type {
        case is String.Type: return text as! T
        case is Bool.Type:
            guard text == "true" || text == "false" else { throw fail("true or false") }
            return (text == "true") as! T
        case is Int.Type: guard let v = Int(text) else { throw fail("a whole number") }; return v as! T
        case is UInt64.Type: guard let v = UInt64(text) else { throw fail("a whole number >= 0") }; return v as! T
        case is UInt32.Type: guard let v = UInt32(text) else { throw fail("a whole number >= 0") }; return v as! T
        case is Double.Type: guard let v = Double(text) else { throw fail("a number") }; return v as! T
        case is Float.Type: guard let v = Float(text) else { throw fail("a number") }; return v as! T
        default:
            // A string enum or another single-value type: its own decoding of the text as a JSON string.
            do { return try JSONDecoder().decode(T.self, from: try JSONValue.string(text).canonicalJSON()) } catch {
                throw fail("an accepted value of \(key)")
            }
        }
    }
}
