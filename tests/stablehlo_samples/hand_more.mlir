// Variadic scatter, batch_norm_grad, fft and compare in the generic syntax, a dot with an
// algorithm, and the attributes jax attaches to arguments and results (accepted, ignored).
module @hand_more attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32, mhlo.frontend_attributes = {xla.sdy.meshes = "{}"}} {
  func.func public @main(%arg0: tensor<5xf32> {jax.buffer_donor = true, mhlo.layout_mode = "default", mhlo.sharding = "{replicated}"}, %arg1: tensor<5xi32> {tf.aliasing_output = 0 : i32}, %arg2: tensor<2x3x4xf32>, %arg3: tensor<4xf32>, %arg4: tensor<8xf32>) -> (tensor<5xf32> {jax.result_info = "a", mhlo.layout_mode = "default"}, tensor<5xi32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<8xcomplex<f32>>, tensor<5xf32>) {
    %idx = stablehlo.constant dense<[[1], [3]]> : tensor<2x1xi32>
    %uf = stablehlo.constant dense<[10.0, 20.0]> : tensor<2xf32>
    %ui = stablehlo.constant dense<[7, 9]> : tensor<2xi32>
    %0:2 = "stablehlo.scatter"(%arg0, %arg1, %idx, %uf, %ui) <{indices_are_sorted = true, scatter_dimension_numbers = #stablehlo.scatter<inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = true}> ({
    ^bb0(%a: tensor<f32>, %b: tensor<i32>, %c: tensor<f32>, %d: tensor<i32>):
      %s = stablehlo.add %a, %c : tensor<f32>
      %m = stablehlo.maximum %b, %d : tensor<i32>
      stablehlo.return %s, %m : tensor<f32>, tensor<i32>
    }) {mhlo.frontend_attributes = {_xla_note = "kept out"}} : (tensor<5xf32>, tensor<5xi32>, tensor<2x1xi32>, tensor<2xf32>, tensor<2xi32>) -> (tensor<5xf32>, tensor<5xi32>)
    %one = stablehlo.constant dense<1.0> : tensor<4xf32>
    %1:3 = "stablehlo.batch_norm_grad"(%arg2, %one, %arg3, %one, %arg2) <{epsilon = 1.000000e-03 : f32, feature_index = 2 : i64}> : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<2x3x4xf32>) -> (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>)
    %z = stablehlo.constant dense<0.0> : tensor<8xf32>
    %cx = "stablehlo.complex"(%arg4, %z) : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xcomplex<f32>>
    %2 = "stablehlo.fft"(%cx) <{fft_length = array<i64: 8>, fft_type = #stablehlo<fft_type FFT>}> : (tensor<8xcomplex<f32>>) -> tensor<8xcomplex<f32>>
    %3 = "stablehlo.compare"(%arg0, %0#0) <{comparison_direction = #stablehlo<comparison_direction LE>}> : (tensor<5xf32>, tensor<5xf32>) -> tensor<5xi1>
    %4 = stablehlo.select %3, %arg0, %0#0 : tensor<5xi1>, tensor<5xf32>
    return %4, %0#1, %1#0, %1#1, %2, %0#0 : tensor<5xf32>, tensor<5xi32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<8xcomplex<f32>>, tensor<5xf32>
  }
}
