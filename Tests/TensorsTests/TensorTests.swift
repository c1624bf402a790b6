import Testing

@testable import Tensors

@Test func tensorKeepsShapeAndScalars() {
  let tensor = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
  #expect(tensor.shape == [2, 3])
  #expect(tensor.count == 6)
  #expect(tensor.rank == 2)
  #expect(tensor.scalars == [1, 2, 3, 4, 5, 6])
  #expect(Tensor(shape: [2, 2], repeating: 7).scalars == [7, 7, 7, 7])
  #expect(Tensor(shape: [0, 3]).count == 0)
  #expect(Tensor(2.5).scalar == 2.5)
  #expect(Tensor(2.5).shape == [])
}

@Test func copiesShareStorageUntilWritten() {
  let original = Tensor(shape: [3], scalars: [1, 2, 3])
  var copy = original
  #expect(copy.storage === original.storage)

  copy.withUnsafeMutableBufferPointer { $0[0] = 10 }
  #expect(copy.storage !== original.storage)
  #expect(original.scalars == [1, 2, 3])
  #expect(copy.scalars == [10, 2, 3])

  // A unique value is written in place.
  let addressBefore = copy.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
  copy.scalars = [4, 5, 6]
  #expect(copy.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } == addressBefore)
  #expect(copy.scalars == [4, 5, 6])
}

@Test func storageIsAligned() {
  for count in [1, 3, 1000, 4097] {
    let tensor = Tensor(shape: [count], repeating: 1)
    let address = tensor.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
    #expect(address % 64 == 0, "storage of \(count) elements at \(address)")
  }
}

@Test func reshapeSharesStorageAndCarriesGradients() {
  let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6], requiresGradient: true)
  let y = x.reshaped(to: [3, 1, 2])
  #expect(y.shape == [3, 1, 2])
  #expect(y.storage === x.storage)
  (y * y).sum().backward()
  expectClose(
    x.gradient, Tensor(shape: [2, 3], scalars: [2, 4, 6, 8, 10, 12]), rtol: 0, atol: 0, "2x")
}
