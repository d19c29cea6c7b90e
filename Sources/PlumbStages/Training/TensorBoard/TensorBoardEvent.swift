// TensorBoard's event-file format: TFRecord frames (length as uint64 little endian, the masked
// CRC-32C of those 8 bytes, the data, the masked CRC-32C of the data) around `tensorflow.Event`
// protocol buffers:
//   Event      { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5;
//                SessionLog session_log = 7 }
//   Summary    { repeated Value value = 1 }   Value { string tag = 1; float simple_value = 2 }
//   SessionLog { SessionStatus status = 1 }   (START = 1)

public enum TensorBoardEvent {
    /// The first event of every file: names the format version ("brain.Event:2").
    public static func fileVersion(wallTime: Double) -> [UInt8] {
        var event = ProtobufEncoder()
        event.double(1, wallTime)
        event.string(3, "brain.Event:2")
        return event.bytes
    }

    /// Scalar summaries at one step, one `Value` per (tag, value), in the order given.
    public static func scalars(_ values: [(tag: String, value: Float)], step: Int, wallTime: Double) -> [UInt8] {
        var summary = ProtobufEncoder()
        for (tag, value) in values {
            var entry = ProtobufEncoder()
            entry.string(1, tag)
            entry.float(2, value)
            summary.lengthDelimited(1, entry.bytes)
        }
        var event = ProtobufEncoder()
        event.double(1, wallTime)
        event.int64(2, Int64(step))
        event.lengthDelimited(5, summary.bytes)
        return event.bytes
    }

    /// A session start at `step`: TensorBoard then drops the events it holds at this step and later
    /// (its purge of orphaned data), which is how a restarted job retracts what it logged past its
    /// checkpoint.
    public static func sessionStart(step: Int, wallTime: Double) -> [UInt8] {
        var log = ProtobufEncoder()
        log.int64(1, 1)
        var event = ProtobufEncoder()
        event.double(1, wallTime)
        event.int64(2, Int64(step))
        event.lengthDelimited(7, log.bytes)
        return event.bytes
    }

    /// One TFRecord frame around `data`.
    public static func record(_ data: [UInt8]) -> [UInt8] {
        var length: [UInt8] = []
        withUnsafeBytes(of: UInt64(data.count).littleEndian) { length += $0 }
        var frame = length
        withUnsafeBytes(of: CRC32C.masked(length).littleEndian) { frame += $0 }
        frame += data
        withUnsafeBytes(of: CRC32C.masked(data).littleEndian) { frame += $0 }
        return frame
    }
}
