// Parses a GGUF file (GGUFFormat.swift) back into a GGUFFile: the round-trip check of the writer in
// tests and a quick look at an export. It reads the value and tensor types the exporter writes and
// refuses others by name and byte offset; llama.cpp and the `gguf` package are the independent
// readers (pipelines/check-gguf.sh).
import Foundation

public enum GGUFReader {
    public static func read(_ url: URL) throws -> GGUFFile {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw CheckpointError("\(url.path): cannot read: \(error.localizedDescription)") }
        return try decode([UInt8](data), source: url.path)
    }

    public static func decode(_ bytes: [UInt8], source: String) throws -> GGUFFile {
        var cursor = Cursor(bytes: bytes, source: source)
        guard Array(try cursor.take(4)) == GGUFFile.magic else { throw CheckpointError("\(source): not a GGUF file (magic at byte 0 is not \"GGUF\")") }
        let version = try cursor.int(UInt32.self, "version")
        guard version == GGUFFile.version else { throw CheckpointError("\(source): GGUF version \(version); this reader knows version 3") }
        let tensorCount = try cursor.count("tensor count"), kvCount = try cursor.count("key-value count")
        var file = GGUFFile()
        for i in 0..<kvCount {
            let key = String(decoding: try cursor.string("key \(i)"), as: UTF8.self)
            file.metadata.append((key, try cursor.value(key)))
        }
        var infos: [(name: String, dims: [Int], type: GGUFTensorType, offset: Int)] = []
        for i in 0..<tensorCount {
            let name = String(decoding: try cursor.string("tensor \(i) name"), as: UTF8.self)
            let nDims = Int(try cursor.int(UInt32.self, "tensor '\(name)' n_dims"))
            guard (1...4).contains(nDims) else { throw CheckpointError("\(source): tensor '\(name)': n_dims \(nDims) outside 1...4") }
            let dims = try (0..<nDims).map { _ in try cursor.count("tensor '\(name)' dims") }
            let raw = try cursor.int(UInt32.self, "tensor '\(name)' type")
            guard let type = GGUFTensorType(rawValue: raw) else { throw CheckpointError("\(source): tensor '\(name)': type \(raw) is not F32, F16 or Q8_0") }
            infos.append((name, dims, type, try cursor.count("tensor '\(name)' offset")))
        }
        let alignment = file.alignment
        let dataStart = GGUFWriter.padded(cursor.at, alignment)
        for info in infos {
            guard let elements = CheckedCount.product(info.dims) else { throw CheckpointError("\(source): tensor '\(info.name)': dims \(info.dims) overflow") }
            let size = info.type.byteCount(elements: elements), start = dataStart + info.offset
            guard info.offset % alignment == 0, start + size <= bytes.count else {
                throw CheckpointError("\(source): tensor '\(info.name)': \(size) bytes at offset \(info.offset) (aligned to \(alignment)?) "
                    + "pass the end of the file (\(bytes.count) bytes)")
            }
            file.tensors.append(GGUFTensor(name: info.name, dims: info.dims, type: info.type, data: Array(bytes[start..<start + size])))
        }
        return file
    }

    struct Cursor {
        let bytes: [UInt8]
        let source: String
        var at = 0

        mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, n <= bytes.count - at else { throw CheckpointError("\(source): file ends at byte \(bytes.count), needed \(n) bytes at \(at)") }
            defer { at += n }
            return bytes[at..<at + n]
        }

        mutating func int<T: FixedWidthInteger>(_: T.Type, _ field: String) throws -> T {
            guard MemoryLayout<T>.size <= bytes.count - at else { throw CheckpointError("\(source): \(field): file ends at byte \(bytes.count) (reading at \(at))") }
            defer { at += MemoryLayout<T>.size }
            return GGUFEncoding.readLE(bytes, at, as: T.self)
        }

        /// A uint64 count that must fit the file.
        mutating func count(_ field: String) throws -> Int {
            let v = try int(UInt64.self, field)
            guard v <= UInt64(bytes.count) * 8 + 1 << 32 else { throw CheckpointError("\(source): \(field) \(v) at byte \(at - 8) is implausible for a \(bytes.count)-byte file") }
            return Int(v)
        }

        mutating func string(_ field: String) throws -> [UInt8] { Array(try take(try count(field + " length"))) }

        mutating func value(_ key: String) throws -> GGUFValue {
            let raw = try int(UInt32.self, "key '\(key)' type")
            guard let type = GGUFValueType(rawValue: raw) else { throw CheckpointError("\(source): key '\(key)': value type \(raw) unknown") }
            switch type {
            case .uint32: return .uint32(try int(UInt32.self, key))
            case .int32: return .int32(try int(Int32.self, key))
            case .uint64: return .uint64(try int(UInt64.self, key))
            case .float32: return .float32(Float(bitPattern: try int(UInt32.self, key)))
            case .bool: return .bool(try int(UInt8.self, key) != 0)
            case .string: return .string(try string(key))
            case .array:
                let elementRaw = try int(UInt32.self, "key '\(key)' element type"), n = try count("key '\(key)' count")
                switch GGUFValueType(rawValue: elementRaw) {
                case .string?: return .stringArray(try (0..<n).map { _ in try string(key) })
                case .float32?: return .float32Array(try (0..<n).map { _ in Float(bitPattern: try int(UInt32.self, key)) })
                case .int32?: return .int32Array(try (0..<n).map { _ in try int(Int32.self, key) })
                default: throw CheckpointError("\(source): key '\(key)': arrays of type \(elementRaw) are not read here")
                }
            default: throw CheckpointError("\(source): key '\(key)': value type \(type) is not read here")
            }
        }
    }
}
