import Synchronization

/// Float buffers reused across kernel calls, so that a training step does not map, fault in
/// and release the same tens of megabytes for every layer.
///
/// A buffer is taken for the duration of a closure and then returned to the pool; the pool
/// keeps at most `retainedLimit` buffers. Buffers come back uninitialised (whatever the last
/// user left), so callers overwrite before they read.
enum ScratchPool {
  /// One retained allocation; only one caller holds it at a time.
  struct Entry: @unchecked Sendable {
    let capacity: Int
    let buffer: UnsafeMutablePointer<Float>
  }

  private static let free = Mutex<[Entry]>([])
  static let retainedLimit = 16

  /// Calls `body` with a buffer of at least `count` floats, aligned to 64 bytes.
  static func withBuffer<Result>(
    _ count: Int, _ body: (UnsafeMutablePointer<Float>) -> Result
  ) -> Result {
    let needed = max(count, 16)
    let taken = free.withLock { entries -> Entry? in
      // The smallest retained buffer that is large enough.
      var best: Int?
      for index in entries.indices where entries[index].capacity >= needed {
        if let current = best, entries[current].capacity <= entries[index].capacity { continue }
        best = index
      }
      return best.map { entries.remove(at: $0) }
    }
    let entry = taken ?? Entry(capacity: needed, buffer: allocate(needed))
    defer {
      free.withLock { entries in
        entries.append(entry)
        if entries.count > retainedLimit {
          // Drop the smallest: the large ones are the expensive ones to fault in again.
          let smallest = entries.indices.min { entries[$0].capacity < entries[$1].capacity } ?? 0
          entries.remove(at: smallest).buffer.deallocate()
        }
      }
    }
    return body(entry.buffer)
  }

  private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
    let raw = UnsafeMutableRawPointer.allocate(
      byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
    let buffer = raw.bindMemory(to: Float.self, capacity: count)
    buffer.initialize(repeating: 0, count: count)
    return buffer
  }
}
