/// A strict reader of Python pickles that knows only what a PyTorch `state_dict` of tensors
/// needs. It builds plain values (numbers, strings, tuples, lists, dicts), ordered dicts, and
/// references to tensors and their storages; it never runs code, and any global outside the few
/// below is refused by name before anything else happens.
///
/// Allowed globals: `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`,
/// `torch._utils._rebuild_tensor`, `torch._utils._rebuild_parameter`, and the typed storage
/// classes of `TorchStorageType` (`torch.FloatStorage`, `torch.HalfStorage`, …, also under
/// `torch.cuda` for files saved from a GPU).

/// A storage a pickle refers to by persistent id: `('storage', type, key, location, count[, view])`.
struct StorageReference: Equatable, Sendable {
  /// The storage's name in the file (`data/KEY` in a zip archive, a key of the storage list in
  /// the legacy format).
  let key: String
  let type: TorchStorageType
  /// Elements in the whole storage.
  let count: Int
  /// For a legacy view into a larger storage: the elements skipped at its start.
  let viewOffset: Int
}

/// A tensor as pickled: a view with an offset and strides into a storage, in elements.
struct TensorReference: Equatable, Sendable {
  let storage: StorageReference
  let offset: Int
  let shape: [Int]
  let strides: [Int]
}

/// A pickled list; a class because pickles fill containers after they are memoized.
final class PickleList {
  var items: [PickleValue] = []
  /// Containers nested in it, counting itself (1 when it holds no container).
  var depth = 1
  /// Whether it has been placed inside another value, after which it may not be filled.
  var isNested = false
}

/// A pickled dict or `OrderedDict`, keeping the order in which items were set.
final class PickleDict {
  private(set) var entries: [(key: PickleValue, value: PickleValue)] = []
  /// Where each string key sits in `entries`, so that large dicts fill in linear time.
  private var stringKeys: [String: Int] = [:]
  /// Containers nested in it, counting itself (1 when it holds no container).
  var depth = 1
  /// Whether it has been placed inside another value, after which it may not be filled.
  var isNested = false

  /// Sets `value` for `key`, replacing an earlier value in place as Python does.
  func set(_ key: PickleValue, _ value: PickleValue) {
    let existing: Int?
    if case .string(let text) = key {
      existing = stringKeys[text]
      if existing == nil { stringKeys[text] = entries.count }
    } else {
      existing = entries.firstIndex { $0.key == key }
    }
    if let existing {
      entries[existing].value = value
    } else {
      entries.append((key, value))
    }
  }

  func value(forString key: String) -> PickleValue? {
    stringKeys[key].map { entries[$0].value }
  }
}

/// The globals a state_dict pickle may name.
enum AllowedGlobal: Equatable, Sendable {
  case orderedDict
  case rebuildTensorV2
  case rebuildTensor
  case rebuildParameter
  case storage(TorchStorageType)

  init?(module: String, name: String) {
    switch (module, name) {
    case ("collections", "OrderedDict"): self = .orderedDict
    case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensorV2
    case ("torch._utils", "_rebuild_tensor"): self = .rebuildTensor
    case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
    case ("torch", _), ("torch.cuda", _):
      // Storages saved from a GPU name their class under torch.cuda; the bytes are the same.
      guard let type = TorchStorageType(className: name) else { return nil }
      self = .storage(type)
    default: return nil
    }
  }
}

/// A value built by the unpickler.
indirect enum PickleValue: Equatable {
  case none
  case bool(Bool)
  case int(Int)
  /// An integer too large for `Int`, as little-endian two's complement bytes.
  case bigInt([UInt8])
  case float(Double)
  case string(String)
  case bytes([UInt8])
  case tuple([PickleValue])
  case list(PickleList)
  case dict(PickleDict)
  case global(AllowedGlobal)
  case storage(StorageReference)
  case tensor(TensorReference)

  static func == (left: PickleValue, right: PickleValue) -> Bool {
    switch (left, right) {
    case (.none, .none): return true
    case (.bool(let a), .bool(let b)): return a == b
    case (.int(let a), .int(let b)): return a == b
    case (.bigInt(let a), .bigInt(let b)): return a == b
    case (.float(let a), .float(let b)): return a == b
    case (.string(let a), .string(let b)): return a == b
    case (.bytes(let a), .bytes(let b)): return a == b
    case (.tuple(let a), .tuple(let b)): return a == b
    case (.list(let a), .list(let b)): return a === b
    case (.dict(let a), .dict(let b)): return a === b
    case (.global(let a), .global(let b)): return a == b
    case (.storage(let a), .storage(let b)): return a == b
    case (.tensor(let a), .tensor(let b)): return a == b
    default: return false
    }
  }

  /// A short description of the value's kind for error messages.
  var kindName: String {
    switch self {
    case .none: return "None"
    case .bool: return "a bool"
    case .int, .bigInt: return "an int"
    case .float: return "a float"
    case .string: return "a string"
    case .bytes: return "bytes"
    case .tuple: return "a tuple"
    case .list: return "a list"
    case .dict: return "a dict"
    case .global: return "a class or function"
    case .storage: return "a storage"
    case .tensor: return "a tensor"
    }
  }
}

/// Reads one pickle from `bytes[start...]`, stopping at its STOP opcode.
///
/// Values may nest at most `maximumNesting` containers deep (a state_dict needs a few levels),
/// and a list or dict may not be filled once it sits inside another value (as no pickle of a
/// state_dict does), so that no value is cyclic or deeper than the limit: freeing a value
/// nested a million deep would overflow the stack.
struct Unpickler {
  /// The most elements a storage may claim (2⁴⁰), far above any real model, so that sizes
  /// computed from it cannot overflow.
  static let maximumStorageCount = 1 << 40
  /// The most containers (tuples, lists, dicts) one value may nest, counting itself.
  static let maximumNesting = 100

  private let bytes: [UInt8]
  private let path: String
  private(set) var position: Int
  private var stack: [PickleValue] = []
  /// The nesting depth of each value of `stack` when it was pushed (see `depth(of:pushed:)`).
  private var depths: [Int] = []
  private var marks: [Int] = []
  private var memo: [Int: (value: PickleValue, depth: Int)] = [:]

  /// Unpickles the value starting at `start`; returns it and the offset just past STOP.
  static func load(_ bytes: [UInt8], from start: Int = 0, path: String) throws(CheckpointError)
    -> (value: PickleValue, end: Int)
  {
    var unpickler = Unpickler(bytes: bytes, path: path, position: start)
    let value = try unpickler.run()
    return (value, unpickler.position)
  }

  private init(bytes: [UInt8], path: String, position: Int) {
    self.bytes = bytes
    self.path = path
    self.position = position
  }

  // MARK: Reading bytes

  private func malformed(_ reason: String) -> CheckpointError {
    CheckpointError(.malformed, path: path, reason: "pickle at byte \(position): \(reason)")
  }

  private mutating func take(_ count: Int) throws(CheckpointError) -> ArraySlice<UInt8> {
    guard count >= 0, count <= bytes.count - position else {
      throw CheckpointError(
        .truncated, path: path,
        reason: "file ends inside its pickle (needs \(count) bytes at byte \(position), has"
          + " \(bytes.count - position)); the file is incomplete")
    }
    defer { position += count }
    return bytes[position..<position + count]
  }

  private mutating func unsigned(_ count: Int) throws(CheckpointError) -> UInt64 {
    try take(count).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
  }

  private mutating func length(_ count: Int) throws(CheckpointError) -> Int {
    let value = try unsigned(count)
    guard value <= UInt64(bytes.count) else {
      throw CheckpointError(
        .truncated, path: path,
        reason: "pickle at byte \(position) announces \(value) bytes, more than the file holds;"
          + " the file is incomplete")
    }
    return Int(value)
  }

  private mutating func line() throws(CheckpointError) -> String {
    guard let end = bytes[position...].firstIndex(of: 0x0a) else {
      throw CheckpointError(
        .truncated, path: path,
        reason: "file ends inside its pickle (at byte \(position)); the file is incomplete")
    }
    defer { position = end + 1 }
    return String(decoding: bytes[position..<end], as: UTF8.self)
  }

  private mutating func text(_ count: Int) throws(CheckpointError) -> String {
    let slice = try take(count)
    guard let text = String(validating: slice, as: UTF8.self) else {
      throw malformed("string is not valid UTF-8")
    }
    return text
  }

  // MARK: The stack

  private mutating func pop() throws(CheckpointError) -> PickleValue {
    try popEntry().value
  }

  /// The top value with its nesting depth.
  private mutating func popEntry() throws(CheckpointError) -> (value: PickleValue, depth: Int) {
    guard let value = stack.popLast(), stack.count >= (marks.last ?? 0) else {
      throw malformed("stack underflow")
    }
    return (value, depth(of: value, pushed: depths.removeLast()))
  }

  private mutating func popToMark() throws(CheckpointError) -> [PickleValue] {
    try popEntriesToMark().map(\.value)
  }

  /// The values above the last MARK, with their nesting depths, in stack order.
  private mutating func popEntriesToMark() throws(CheckpointError) -> [(
    value: PickleValue, depth: Int
  )] {
    guard let mark = marks.popLast(), mark <= stack.count else {
      throw malformed("no MARK on the stack")
    }
    defer {
      stack.removeSubrange(mark...)
      depths.removeSubrange(mark...)
    }
    return (mark..<stack.count).map { (stack[$0], depth(of: stack[$0], pushed: depths[$0])) }
  }

  private mutating func push(_ value: PickleValue, depth: Int = 0) {
    stack.append(value)
    depths.append(depth)
  }

  /// The nesting depth of `value`: lists and dicts know theirs (it grows as they are filled),
  /// other values keep the one they were pushed with (a tuple's is fixed when it is built).
  private func depth(of value: PickleValue, pushed: Int) -> Int {
    switch value {
    case .list(let list): return list.depth
    case .dict(let dict): return dict.depth
    default: return pushed
    }
  }

  /// Marks `items` as placed inside a container (`target`, or a new tuple when nil) and
  /// returns that container's depth; refuses a container placed inside itself, and nesting
  /// beyond `maximumNesting`.
  private func nest(_ items: [(value: PickleValue, depth: Int)], into target: AnyObject?)
    throws(CheckpointError) -> Int
  {
    var deepest = 0
    for (value, depth) in items {
      let container: AnyObject?
      switch value {
      case .list(let list):
        list.isNested = true
        container = list
      case .dict(let dict):
        dict.isNested = true
        container = dict
      default: container = nil
      }
      if let container, container === target {
        throw malformed("a \(value.kindName.dropFirst(2)) is placed inside itself")
      }
      deepest = max(deepest, depth)
    }
    guard deepest < Self.maximumNesting else {
      throw malformed(
        "values nest more than \(Self.maximumNesting) containers deep, far more than a"
          + " state_dict needs")
    }
    return deepest + 1
  }

  // MARK: The loop

  private mutating func run() throws(CheckpointError) -> PickleValue {
    while true {
      let opcodePosition = position
      let opcode = try take(1).first!
      switch opcode {
      case 0x80:  // PROTO
        let version = try take(1).first!
        guard version <= 5 else { throw malformed("pickle protocol \(version) is unknown") }
      case 0x95:  // FRAME: a length hint only
        _ = try take(8)
      case UInt8(ascii: "."):  // STOP
        let value = try pop()
        guard stack.isEmpty, marks.isEmpty else { throw malformed("values left on the stack") }
        return value
      case UInt8(ascii: "("): marks.append(stack.count)  // MARK
      case UInt8(ascii: "0"): _ = try pop()  // POP
      case UInt8(ascii: "1"): _ = try popToMark()  // POP_MARK
      case UInt8(ascii: "2"):  // DUP
        let top = try popEntry()
        push(top.value, depth: top.depth)
        push(top.value, depth: top.depth)

      // Constants and numbers.
      case UInt8(ascii: "N"): push(.none)
      case 0x88: push(.bool(true))
      case 0x89: push(.bool(false))
      case UInt8(ascii: "J"): push(.int(Int(Int32(truncatingIfNeeded: try unsigned(4)))))
      case UInt8(ascii: "K"): push(.int(Int(try unsigned(1))))
      case UInt8(ascii: "M"): push(.int(Int(try unsigned(2))))
      case 0x8a: push(try long(byteCount: try length(1)))  // LONG1
      case 0x8b: push(try long(byteCount: try length(4)))  // LONG4
      case UInt8(ascii: "I"):  // INT, as text (protocol 0, also True and False)
        let digits = try line()
        if digits == "01" {
          push(.bool(true))
        } else if digits == "00" {
          push(.bool(false))
        } else if let value = Int(digits) {
          push(.int(value))
        } else {
          throw malformed("INT opcode with text \"\(digits)\"")
        }
      case UInt8(ascii: "G"): push(.float(Double(bitPattern: try unsigned(8).byteSwapped)))

      // Strings and bytes (Python 2's str is read as text).
      case UInt8(ascii: "X"): push(.string(try text(try length(4))))
      case 0x8c: push(.string(try text(try length(1))))
      case 0x8d: push(.string(try text(try length(8))))
      case UInt8(ascii: "U"), UInt8(ascii: "T"):
        let slice = try take(try length(opcode == UInt8(ascii: "U") ? 1 : 4))
        push(
          .string(
            String(validating: slice, as: UTF8.self)
              ?? String(decoding: slice, as: Unicode.ASCII.self)))
      case UInt8(ascii: "C"): push(.bytes(Array(try take(try length(1)))))
      case UInt8(ascii: "B"): push(.bytes(Array(try take(try length(4)))))

      // Containers.
      case UInt8(ascii: ")"): push(.tuple([]), depth: 1)
      case UInt8(ascii: "t"): try pushTuple(try popEntriesToMark())
      case 0x85: try pushTuple([try popEntry()])
      case 0x86:
        let second = try popEntry()
        try pushTuple([try popEntry(), second])
      case 0x87:
        let third = try popEntry()
        let second = try popEntry()
        try pushTuple([try popEntry(), second, third])
      case UInt8(ascii: "]"): push(.list(PickleList()))
      case UInt8(ascii: "l"):
        let list = PickleList()
        try fill(list, with: try popEntriesToMark())
        push(.list(list))
      case UInt8(ascii: "a"):
        let item = try popEntry()
        try fill(try topList(), with: [item])
      case UInt8(ascii: "e"):
        let items = try popEntriesToMark()
        try fill(try topList(), with: items)
      case UInt8(ascii: "}"): push(.dict(PickleDict()))
      case UInt8(ascii: "d"):
        let dict = PickleDict()
        try setItems(try popEntriesToMark(), in: dict)
        push(.dict(dict))
      case UInt8(ascii: "s"):
        let value = try popEntry()
        let key = try popEntry()
        try setItems([key, value], in: try topDict())
      case UInt8(ascii: "u"):
        let items = try popEntriesToMark()
        try setItems(items, in: try topDict())

      // The memo.
      case UInt8(ascii: "q"): try remember(Int(try unsigned(1)))
      case UInt8(ascii: "r"): try remember(Int(try unsigned(4)))
      case 0x94: try remember(memo.count)  // MEMOIZE
      case UInt8(ascii: "h"): try recall(Int(try unsigned(1)))
      case UInt8(ascii: "j"): try recall(Int(try unsigned(4)))

      // Globals, calls and persistent ids: only the allowed few.
      case UInt8(ascii: "c"):  // GLOBAL
        let module = try line()
        let name = try line()
        push(.global(try allowedGlobal(module: module, name: name)))
      case 0x93:  // STACK_GLOBAL
        guard case .string(let name) = try pop(), case .string(let module) = try pop() else {
          throw malformed("STACK_GLOBAL needs two strings")
        }
        push(.global(try allowedGlobal(module: module, name: name)))
      case UInt8(ascii: "R"):  // REDUCE
        let arguments = try popEntry()
        let callable = try pop()
        guard case .global(let function) = callable, case .tuple(let values) = arguments.value
        else {
          throw malformed("REDUCE needs a global and a tuple, got \(callable.kindName)")
        }
        let result = try call(function, values)
        // An OrderedDict built from pairs holds what its arguments held.
        if case .dict(let dict) = result { dict.depth = arguments.depth }
        push(result)
      case UInt8(ascii: "b"):  // BUILD: only an OrderedDict's attributes (`_metadata`), dropped
        let state = try pop()
        guard case .dict = stack.last else {
          throw malformed("BUILD on something other than a dict (state \(state.kindName))")
        }
      case UInt8(ascii: "Q"):  // BINPERSID
        push(try persistentLoad(try pop()))
      default:
        position = opcodePosition
        throw CheckpointError(
          .unsupported, path: path,
          reason: "pickle opcode 0x\(String(opcode, radix: 16)) at byte \(opcodePosition) is not"
            + " one a state_dict of tensors needs")
      }
    }
  }

  private mutating func long(byteCount: Int) throws(CheckpointError) -> PickleValue {
    let slice = Array(try take(byteCount))
    guard !slice.isEmpty else { return .int(0) }
    if slice.count <= 8 {
      var value: UInt64 = 0
      for (index, byte) in slice.enumerated() { value |= UInt64(byte) << (8 * UInt64(index)) }
      if slice.count < 8, slice.last! & 0x80 != 0 {
        value |= ~UInt64(0) << (8 * UInt64(slice.count))  // sign extension
      }
      return .int(Int(Int64(bitPattern: value)))
    }
    return .bigInt(slice)
  }

  private func allowedGlobal(module: String, name: String) throws(CheckpointError)
    -> AllowedGlobal
  {
    guard let global = AllowedGlobal(module: module, name: name) else {
      throw CheckpointError(
        .forbiddenGlobal, path: path,
        reason: "the pickle asks for the global \(module).\(name), which a state_dict of tensors"
          + " does not need; Transmute refuses it rather than run code from the file")
    }
    return global
  }

  private mutating func remember(_ index: Int) throws(CheckpointError) {
    guard let top = stack.last, let depth = depths.last else {
      throw malformed("memo store with an empty stack")
    }
    memo[index] = (top, depth)
  }

  private mutating func recall(_ index: Int) throws(CheckpointError) {
    guard let entry = memo[index] else { throw malformed("memo entry \(index) was never stored") }
    push(entry.value, depth: entry.depth)
  }

  private mutating func pushTuple(_ items: [(value: PickleValue, depth: Int)])
    throws(CheckpointError)
  {
    let depth = try nest(items, into: nil)
    push(.tuple(items.map(\.value)), depth: depth)
  }

  private func topList() throws(CheckpointError) -> PickleList {
    guard case .list(let list) = stack.last else { throw malformed("APPEND(S) without a list") }
    return list
  }

  private func topDict() throws(CheckpointError) -> PickleDict {
    guard case .dict(let dict) = stack.last else { throw malformed("SETITEM(S) without a dict") }
    return dict
  }

  private func fill(_ list: PickleList, with items: [(value: PickleValue, depth: Int)])
    throws(CheckpointError)
  {
    guard !list.isNested else { throw malformed("a list is filled after it was nested") }
    list.depth = max(list.depth, try nest(items, into: list))
    list.items += items.map(\.value)
  }

  private func setItems(_ items: [(value: PickleValue, depth: Int)], in dict: PickleDict)
    throws(CheckpointError)
  {
    guard items.count % 2 == 0 else { throw malformed("SETITEMS with an odd number of values") }
    guard !dict.isNested else { throw malformed("a dict is filled after it was nested") }
    dict.depth = max(dict.depth, try nest(items, into: dict))
    for index in stride(from: 0, to: items.count, by: 2) {
      try checkKey(items[index].value)
      dict.set(items[index].value, items[index + 1].value)
    }
  }

  /// Refuses a container as a dict key: keys are compared on every insertion, and containers
  /// (which Python cannot hash, or tuples, which no state_dict uses) could make that slow.
  private func checkKey(_ key: PickleValue) throws(CheckpointError) {
    switch key {
    case .tuple, .list, .dict:
      throw malformed("a dict key is \(key.kindName), not a string or number")
    default: break
    }
  }

  private func integers(_ value: PickleValue, _ what: String) throws(CheckpointError) -> [Int] {
    guard case .tuple(let items) = value else { throw malformed("\(what) is \(value.kindName)") }
    var result: [Int] = []
    for item in items {
      guard case .int(let number) = item, number >= 0 else {
        throw malformed("\(what) holds \(item.kindName) that is not a size")
      }
      result.append(number)
    }
    return result
  }

  private mutating func call(_ function: AllowedGlobal, _ arguments: [PickleValue])
    throws(CheckpointError) -> PickleValue
  {
    switch function {
    case .orderedDict:
      let dict = PickleDict()
      if case .list(let pairs)? = arguments.first {
        for pair in pairs.items {
          guard case .tuple(let items) = pair, items.count == 2 else {
            throw malformed("OrderedDict built from something other than pairs")
          }
          try checkKey(items[0])
          dict.set(items[0], items[1])
        }
      } else if !arguments.isEmpty {
        throw malformed("OrderedDict called with \(arguments.count) arguments")
      }
      return .dict(dict)

    case .rebuildTensorV2, .rebuildTensor:
      let expectedCounts = function == .rebuildTensor ? [4] : [6, 7]
      guard expectedCounts.contains(arguments.count) else {
        throw malformed("tensor rebuilt from \(arguments.count) arguments")
      }
      guard case .storage(let storage) = arguments[0] else {
        throw malformed("tensor rebuilt from \(arguments[0].kindName), not a storage")
      }
      guard case .int(let offset) = arguments[1], offset >= 0 else {
        throw malformed("tensor storage offset is not a size")
      }
      let shape = try integers(arguments[2], "tensor shape")
      let strides = try integers(arguments[3], "tensor strides")
      guard shape.count == strides.count else {
        throw malformed("tensor shape \(shape) and strides \(strides) differ in rank")
      }
      return .tensor(
        TensorReference(storage: storage, offset: offset, shape: shape, strides: strides))

    case .rebuildParameter:
      guard arguments.count == 3, case .tensor = arguments[0] else {
        throw malformed("parameter rebuilt from something other than a tensor")
      }
      return arguments[0]

    case .storage(let type):
      throw malformed("the storage class for \(type) is called directly, not by persistent id")
    }
  }

  private func persistentLoad(_ identifier: PickleValue) throws(CheckpointError) -> PickleValue {
    guard case .tuple(let items) = identifier, items.count == 5 || items.count == 6,
      items[0] == .string("storage"), case .global(.storage(let type)) = items[1],
      case .string(let key) = items[2], case .string = items[3],
      case .int(let count) = items[4], count >= 0
    else {
      throw malformed("persistent id is not ('storage', type, key, location, count)")
    }
    guard count <= Self.maximumStorageCount else {
      throw malformed("storage \(key) claims \(count) elements, more than any checkpoint holds")
    }
    var viewOffset = 0
    if items.count == 6, items[5] != .none {
      // A legacy view: (view key, offset, view size) into the root storage named by `key`.
      guard case .tuple(let view) = items[5], view.count == 3, case .int(let offset) = view[1],
        case .int(let size) = view[2], offset >= 0, size >= 0, offset + size <= count
      else { throw malformed("storage view description is not (key, offset, size)") }
      viewOffset = offset
    }
    return .storage(StorageReference(key: key, type: type, count: count, viewOffset: viewOffset))
  }
}
