// Records read straight to a file handle (`plumb shards cat|head`): each line and a newline, through
// one 1 MiB buffer.
import Foundation

extension ShardReader {
    /// Writes every line (or the first `limit`) to `handle`.
    public func copyLines(to handle: FileHandle, limit: Int?) throws {
        var out = [UInt8]()
        out.reserveCapacity(1 << 20)
        var count = 0
        while limit.map({ count < $0 }) ?? true, let line = try nextLine() {
            out.append(contentsOf: line)
            out.append(0x0A)
            count += 1
            if out.count >= 1 << 20 { handle.write(Data(out)); out.removeAll(keepingCapacity: true) }
        }
        handle.write(Data(out))
    }
}
