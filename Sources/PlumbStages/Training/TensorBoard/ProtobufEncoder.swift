// The few protocol-buffer encodings TensorBoard's `Event` needs: varints, fixed 32- and 64-bit
// numbers and length-delimited fields, each after its key (field number << 3 | wire type).

public struct ProtobufEncoder {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    private mutating func key(_ field: Int, wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    /// An int64 or enum field (wire type 0); a negative value takes ten bytes, as protobuf specifies.
    public mutating func int64(_ field: Int, _ value: Int64) {
        key(field, wireType: 0)
        varint(UInt64(bitPattern: value))
    }

    /// A double field (wire type 1, little endian).
    public mutating func double(_ field: Int, _ value: Double) {
        key(field, wireType: 1)
        littleEndian(value.bitPattern)
    }

    /// A float field (wire type 5, little endian).
    public mutating func float(_ field: Int, _ value: Float) {
        key(field, wireType: 5)
        littleEndian(value.bitPattern)
    }

    /// A bytes, string or embedded-message field (wire type 2).
    public mutating func lengthDelimited(_ field: Int, _ payload: [UInt8]) {
        key(field, wireType: 2)
        varint(UInt64(payload.count))
        bytes += payload
    }

    public mutating func string(_ field: Int, _ value: String) { lengthDelimited(field, Array(value.utf8)) }

    private mutating func littleEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
}
