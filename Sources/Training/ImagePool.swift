/// The history of generated images shown to a discriminator (Shrivastava et al. 2017), as the
/// reference's `ImagePool`: until the pool is full each new image is kept and returned; after
/// that, each new image is, with probability 1/2, swapped for a random stored one (which is
/// returned instead), and otherwise returned as it is. A pool of size 0 returns its input.
import Tensors

public struct ImagePool: Sendable {
  /// The most images kept.
  public let capacity: Int
  /// The stored images, each `[1, C, H, W]` and detached from any graph.
  public private(set) var images: [Tensor]

  /// An empty pool, or one restored from a checkpoint with its `images`.
  public init(capacity: Int, images: [Tensor] = []) {
    precondition(capacity >= 0, "pool capacity must not be negative, got \(capacity)")
    precondition(
      images.count <= capacity, "a pool of \(capacity) cannot hold \(images.count) images")
    self.capacity = capacity
    self.images = images
  }

  /// Takes a batch of fresh fakes `[N, C, H, W]` and returns the batch to show the
  /// discriminator, `[N, C, H, W]`, with no gradient history. The swap decisions are drawn
  /// from `random`.
  public mutating func query(_ fakes: Tensor, random: inout RandomGenerator) -> Tensor {
    precondition(fakes.rank == 4, "the pool takes [N, C, H, W] batches, got \(fakes.shape)")
    let detached = Tensor(shape: fakes.shape, scalars: fakes.scalars)
    if capacity == 0 { return detached }

    let count = fakes.shape[0]
    let sampleShape = [1] + Array(fakes.shape.dropFirst())
    let sampleSize = sampleShape.reduce(1, *)
    let scalars = detached.scalars
    var chosen = [Tensor]()
    for index in 0..<count {
      let sample = Tensor(
        shape: sampleShape,
        scalars: Array(scalars[(index * sampleSize)..<((index + 1) * sampleSize)]))
      if images.count < capacity {
        images.append(sample)
        chosen.append(sample)
      } else if random.nextUniformDouble() > 0.5 {
        let slot = random.int(in: 0...(capacity - 1))
        chosen.append(images[slot])
        images[slot] = sample
      } else {
        chosen.append(sample)
      }
    }

    // With one image a batch the stored image may have another size (`--preprocess none`);
    // larger batches always have one size (checked by `TrainingOptions.validate`).
    if count == 1 { return chosen[0] }
    precondition(
      chosen.allSatisfy { $0.shape == sampleShape },
      "pooled images of shapes \(chosen.map(\.shape)) cannot form one batch")
    return Tensor(shape: fakes.shape, scalars: chosen.flatMap(\.scalars))
  }
}
