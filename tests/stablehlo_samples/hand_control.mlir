// Control flow written by hand: `if` with values captured from the function, a while loop whose
// body uses an outer value, tuples, tokens, the dot op, size-1 broadcasting, multi-result names.
module @hand_control {
  func.func public @main(%arg0: tensor<f32>, %arg1: tensor<4xf32>, %arg2: tensor<1x4xf32>, %arg3: tensor<4x3xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<i32>, tensor<3x4xf32>, tensor<3xf32>, tensor<i32>) {
    %zero = stablehlo.constant dense<0.0> : tensor<f32>
    %p = stablehlo.compare GT, %arg0, %zero, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
    %0 = "stablehlo.if"(%p) ({
      %a = stablehlo.exponential %arg1 : tensor<4xf32>
      stablehlo.return %a : tensor<4xf32>
    }, {
      %b = stablehlo.negate %arg1 : tensor<4xf32>
      stablehlo.return %b : tensor<4xf32>
    }) : (tensor<i1>) -> tensor<4xf32>
    %c0 = stablehlo.constant dense<0> : tensor<i32>
    %c5 = stablehlo.constant dense<5> : tensor<i32>
    %1:2 = stablehlo.while(%i = %c0, %acc = %arg1) : tensor<i32>, tensor<4xf32>
    cond {
      %lt = stablehlo.compare LT, %i, %c5 : (tensor<i32>, tensor<i32>) -> tensor<i1>
      stablehlo.return %lt : tensor<i1>
    } do {
      %one = stablehlo.constant dense<1> : tensor<i32>
      %next = stablehlo.add %i, %one : tensor<i32>
      %half = stablehlo.multiply %acc, %0 : tensor<4xf32>
      %t = stablehlo.tanh %half : tensor<4xf32>
      stablehlo.return %next, %t : tensor<i32>, tensor<4xf32>
    }
    %tup = stablehlo.tuple %1#0, %arg1 : tuple<tensor<i32>, tensor<4xf32>>
    %g = stablehlo.get_tuple_element %tup[0] : (tuple<tensor<i32>, tensor<4xf32>>) -> tensor<i32>
    %tok = stablehlo.create_token : !stablehlo.token
    %tok2 = stablehlo.after_all %tok, %tok : !stablehlo.token
    %wide = stablehlo.broadcast_in_dim %arg2, dims = [1, 0] : (tensor<1x4xf32>) -> tensor<4x3xf32>
    %sum = stablehlo.add %wide, %arg3 : tensor<4x3xf32>
    %tr = stablehlo.transpose %sum, dims = [1, 0] : (tensor<4x3xf32>) -> tensor<3x4xf32>
    %d = stablehlo.dot %tr, %arg1 : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3xf32>
    %size = stablehlo.get_dimension_size %tr, dim = 1 : (tensor<3x4xf32>) -> tensor<i32>
    return %0, %1#1, %g, %tr, %d, %size : tensor<4xf32>, tensor<4xf32>, tensor<i32>, tensor<3x4xf32>, tensor<3xf32>, tensor<i32>
  }
}
