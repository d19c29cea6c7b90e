// Serialises a GGUFFile (GGUFFormat.swift for the layout): header, key-values, tensor infos, padding
// to the alignment, then the tensors' data, each padded to the alignment. The write is atomic.
import Foundation
import PlumbFiles

public enum GGUFWriter {
    /// The file's bytes as chunks: the head (header, key-values, tensor infos, padding), then each
    /// tensor's data with its padding.
    public static func encode(_ file: GGUFFile) throws -> [Data] {
        let alignment = file.alignment
        guard alignment > 0, alignment % 8 == 0 else { throw CheckpointError("GGUF: general.alignment \(alignment) must be a positive multiple of 8") }
        var names = Set<String>()
        for t in file.tensors {
            guard names.insert(t.name).inserted else { throw CheckpointError("GGUF: tensor '\(t.name)' appears twice") }
            guard t.data.count == t.type.byteCount(elements: t.elementCount), t.type != .q8_0 || t.dims[0] % 32 == 0 else {
                throw CheckpointError("GGUF: tensor '\(t.name)' dims \(t.dims) type \(t.type) needs \(t.type.byteCount(elements: t.elementCount)) bytes, has \(t.data.count)")
            }
        }
        var head: [UInt8] = GGUFFile.magic
        put(GGUFFile.version, &head)
        put(UInt64(file.tensors.count), &head)
        put(UInt64(file.metadata.count), &head)
        for (key, value) in file.metadata {
            putString(Array(key.utf8), &head)
            putValue(value, &head)
        }
        var offset = 0
        for t in file.tensors {
            putString(Array(t.name.utf8), &head)
            put(UInt32(t.dims.count), &head)
            for d in t.dims { put(UInt64(d), &head) }
            put(t.type.rawValue, &head)
            put(UInt64(offset), &head)
            offset += padded(t.data.count, alignment)
        }
        head += [UInt8](repeating: 0, count: padded(head.count, alignment) - head.count)
        var chunks = [Data(head)]
        for t in file.tensors {
            var d = Data(t.data)
            d.append(Data(count: padded(t.data.count, alignment) - t.data.count))
            chunks.append(d)
        }
        return chunks
    }

    /// Writes `file` to `url` atomically (temporary file, fsync, rename).
    public static func write(_ file: GGUFFile, to url: URL) throws {
        try AtomicFile.write(try encode(file), to: url)
    }

    static func padded(_ n: Int, _ alignment: Int) -> Int { (n + alignment - 1) / alignment * alignment }

    static func put<T: FixedWidthInteger>(_ v: T, _ out: inout [UInt8]) { GGUFEncoding.appendLE(v, to: &out) }

    static func putString(_ s: [UInt8], _ out: inout [UInt8]) { put(UInt64(s.count), &out); out += s }

    static func putValue(_ value: GGUFValue, _ out: inout [UInt8]) {
        func type(_ t: GGUFValueType) { put(t.rawValue, &out) }
        switch value {
        case .uint32(let v): type(.uint32); put(v, &out)
        case .int32(let v): type(.int32); put(v, &out)
        case .uint64(let v): type(.uint64); put(v, &out)
        case .float32(let v): type(.float32); put(v.bitPattern, &out)
        case .bool(let v): type(.bool); out.append(v ? 1 : 0)
        case .string(let s): type(.string); putString(s, &out)
        case .stringArray(let a):
            type(.array); type(.string); put(UInt64(a.count), &out)
            for s in a { putString(s, &out) }
        case .float32Array(let a):
            type(.array); type(.float32); put(UInt64(a.count), &out)
            for v in a { put(v.bitPattern, &out) }
        case .int32Array(let a):
            type(.array); type(.int32); put(UInt64(a.count), &out)
            for v in a { put(v, &out) }
        }
    }
}
