"""Plausible mistakes (WRONG) and unusual correct answers (RIGHT) for ch06_pretrained_models.

Each entry is a full replacement of an exercise's solution cell; tests/test_mutants.py checks
that the exercise's test cell (visible and hidden parts) rejects every WRONG and accepts every RIGHT.
Most cases are the solution cell as solutions/ has it (`solution_source`) with an edit made by
`change` (tests/mutants/__init__.py), which fails when the text it replaces is no longer there; the
others keep the solution's def line and docstring and write the body their own way (`with_body`).
"""

from tests.mutants import change, solution_source, with_body

CHAPTER = "ch06_pretrained_models"

# ----------------------------------------------------------------------------- central_crop_resize

_CROP = solution_source(CHAPTER, "central_crop_resize")
_OFFSETS = "top, left = (height - side) // 2, (width - side) // 2"
_BOX = (
    "box = [top / (height - 1), left / (width - 1), (top + side - 1) / (height - 1), "
    "(left + side - 1) / (width - 1)]"
)

WRONG_CROP = {
    "plain resize of the whole image (stretches it)": with_body(_CROP, """
    images = np.asarray(images, dtype=np.float32)
    single = images.ndim == 3
    if single:
        images = images[np.newaxis]
    resized = tf.image.resize(images, (size, size)).numpy()
    return resized[0] if single else resized
"""),
    "crop not centred: rounds the offset up (off by one)": change(
        _CROP, (_OFFSETS, "top, left = (height - side + 1) // 2, (width - side + 1) // 2")),
    "crop at the top-left corner": change(_CROP, (_OFFSETS, "top, left = 0, 0")),
    "box normalised by H and W instead of H - 1 and W - 1": change(
        _CROP, (_BOX, "box = [top / height, left / width, (top + side) / height, (left + side) / width]")),
    "box end one pixel too far (t + s instead of t + s - 1)": change(
        _CROP, ("(top + side - 1) / (height - 1), (left + side - 1) / (width - 1)]",
                "(top + side) / (height - 1), (left + side) / (width - 1)]")),
    "height and width swapped": change(
        _CROP, ("n, height, width, _ = images.shape", "n, width, height, _ = images.shape")),
    "box in (x, y) order instead of (y, x)": change(
        _CROP, (_BOX, "box = [left / (width - 1), top / (height - 1), (left + side - 1) / (width - 1), "
                      "(top + side - 1) / (height - 1)]")),
    "slices the crop, then tf.image.resize (half-pixel sampling)": with_body(_CROP, """
    images = np.asarray(images, dtype=np.float32)
    single = images.ndim == 3
    if single:
        images = images[np.newaxis]
    height, width = images.shape[1:3]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    crop = images[:, top:top + side, left:left + side]
    resized = tf.image.resize(crop, (size, size)).numpy()
    return resized[0] if single else resized
"""),
    "a single image comes back as a batch of one": change(
        _CROP, ("return resized[0] if single else resized", "return resized")),
}

RIGHT_CROP = {
    "slices the crop, then crop_and_resize on the whole crop": with_body(_CROP, """
    x = np.asarray(images, dtype=np.float32)
    batch = x if x.ndim == 4 else x[None]
    h, w = batch.shape[1:3]
    s = min(h, w)
    crop = batch[:, (h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    out = tf.image.crop_and_resize(crop, [[0.0, 0.0, 1.0, 1.0]] * len(crop), list(range(len(crop))),
                                   [size, size])
    out = out.numpy()
    return out if x.ndim == 4 else out[0]
"""),
    "bilinear sampling by hand in NumPy (corner-aligned)": with_body(_CROP, """
    x = np.asarray(images, dtype=np.float64)
    batch = x if x.ndim == 4 else x[None]
    h, w = batch.shape[1:3]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    if size == 1:
        coords = np.array([(s - 1) / 2])
    else:
        coords = np.arange(size) * (s - 1) / (size - 1)
    ys, xs = top + coords, left + coords
    y0 = np.clip(np.floor(ys).astype(int), 0, h - 1)
    x0 = np.clip(np.floor(xs).astype(int), 0, w - 1)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    wy, wx = (ys - y0)[None, :, None, None], (xs - x0)[None, None, :, None]
    rows0, rows1 = batch[:, y0], batch[:, y1]
    top_row = rows0[:, :, x0] * (1 - wx) + rows0[:, :, x1] * wx
    bottom_row = rows1[:, :, x0] * (1 - wx) + rows1[:, :, x1] * wx
    out = (top_row * (1 - wy) + bottom_row * wy).astype(np.float32)
    return out if x.ndim == 4 else out[0]
"""),
}

# ----------------------------------------------------------------------------- caffe_preprocess

_CAFFE = solution_source(CHAPTER, "caffe_preprocess")
_SUBTRACT = "return bgr - np.array([103.939, 116.779, 123.68], dtype=bgr.dtype)"

WRONG_CAFFE = {
    "RGB not flipped to BGR": change(_CAFFE, ("images[..., ::-1]", "images[...]")),
    "means in RGB order": change(_CAFFE, ("[103.939, 116.779, 123.68]", "[123.68, 116.779, 103.939]")),
    "divides by 255 as well": change(
        _CAFFE, (_SUBTRACT,
                 "return bgr / 255 - np.array([103.939, 116.779, 123.68], dtype=bgr.dtype) / 255")),
    "tf mode: scales to [-1, 1]": change(_CAFFE, (_SUBTRACT, "return bgr / 127.5 - 1")),
    "modifies its input in place": with_body(_CAFFE, """
    images = np.asarray(images)
    images[...] = images[..., ::-1]
    images -= np.array([103.939, 116.779, 123.68], dtype=images.dtype)
    return images
"""),
    "flips the first axis (the batch) instead of the channels": change(
        _CAFFE, ("images[..., ::-1]", "images[::-1]")),
    "calls Keras' preprocess_input": with_body(_CAFFE, """
    return keras.applications.resnet50.preprocess_input(np.array(images, dtype=np.float32))
"""),
    "always returns float64": change(
        _CAFFE, ("astype(np.result_type(images.dtype, np.float32))", "astype(np.float64)")),
}

RIGHT_CAFFE = {
    "np.flip and a broadcast subtraction": with_body(_CAFFE, """
    x = np.asarray(images)
    dtype = np.float64 if x.dtype == np.float64 else np.float32
    return np.flip(x, axis=-1).astype(dtype) - np.array([103.939, 116.779, 123.68], dtype)
"""),
    "TensorFlow ops, returning a tensor": with_body(_CAFFE, """
    x = tf.convert_to_tensor(images)
    if not x.dtype.is_floating:
        x = tf.cast(x, tf.float32)
    return tf.reverse(x, axis=[-1]) - tf.constant([103.939, 116.779, 123.68], dtype=x.dtype)
"""),
    "channels stacked one by one": with_body(_CAFFE, """
    x = np.array(images, dtype=np.result_type(np.asarray(images).dtype, np.float32))
    red, green, blue = x[..., 0], x[..., 1], x[..., 2]
    return np.stack([blue - 103.939, green - 116.779, red - 123.68], axis=-1).astype(x.dtype)
"""),
}

# ----------------------------------------------------------------------------- top_k

_TOPK = solution_source(CHAPTER, "top_k")
_ORDER = 'np.argsort(-rows, axis=1, kind="stable")[:, :k]'

WRONG_TOPK = {
    "ascending order": change(_TOPK, (_ORDER, 'np.argsort(rows, axis=1, kind="stable")[:, :k]')),
    "one class too many (off by one)": change(_TOPK, ("[:, :k]", "[:, :k + 1]")),
    "one class too few (off by one)": change(_TOPK, ("[:, :k]", "[:, :k - 1]")),
    "returns indices instead of names": change(
        _TOPK, ("(class_names[i], float(row[i]))", "(int(i), float(row[i]))")),
    "argsort along the wrong axis": change(
        _TOPK, (_ORDER, 'np.argsort(-rows, axis=0, kind="stable").T[:, :k]')),
    "ties: the higher index first (reversed ascending argsort)": change(
        _TOPK, (_ORDER, 'np.argsort(rows, axis=1, kind="stable")[:, ::-1][:, :k]')),
    "a 1-D row comes back as a list of one list": change(
        _TOPK, ("return result[0] if single else result", "return result")),
    "no ValueError when k is out of range": change(
        _TOPK, ('        raise ValueError(f"k should be between 1 and the number of classes, '
                '{n_classes}; got {k}")',
                "        k = max(1, min(k, n_classes))")),
}

RIGHT_TOPK = {
    "tf.math.top_k": with_body(_TOPK, """
    p = np.atleast_2d(np.asarray(probabilities, dtype=np.float64))
    if not 1 <= k <= p.shape[-1]:
        raise ValueError("k out of range")
    values, indices = tf.math.top_k(p, k=k)
    rows = [[(class_names[int(i)], float(v)) for v, i in zip(vs, ix)]
            for vs, ix in zip(values.numpy(), indices.numpy())]
    return rows[0] if np.ndim(probabilities) == 1 else rows
"""),
    "sorted with a (probability, -index) key, tuples of rows": with_body(_TOPK, """
    p = np.asarray(probabilities)
    def one(row):
        if k < 1 or k > len(row):
            raise ValueError(f"k={k} but {len(row)} classes")
        order = sorted(range(len(row)), key=lambda i: (-row[i], i))
        return [(class_names[i], row[i]) for i in order[:k]]
    if p.ndim == 1:
        return one(p)
    return tuple(one(row) for row in p)
"""),
    "np.lexsort": with_body(_TOPK, """
    p = np.asarray(probabilities)
    rows = p.reshape(-1, p.shape[-1])
    if not (isinstance(k, int) and 0 < k <= rows.shape[1]):
        raise ValueError("k must be in 1..n_classes")
    out = []
    for row in rows:
        order = np.lexsort((np.arange(len(row)), -row))[:k]
        out.append([(class_names[i], float(row[i])) for i in order])
    return out[0] if p.ndim == 1 else out
"""),
}

# ----------------------------------------------------------------------------- grad_cam

_CAM = solution_source(CHAPTER, "grad_cam")

# Lines of the solution cell that several cases edit, and the edits made more than once
_LAYER = "layer = model.get_layer(layer_name)"
_POOLED = "alphas = tf.reduce_mean(gradients, axis=(1, 2))"
_CAMS = "cams = tf.nn.relu(tf.reduce_sum(maps * alphas[:, tf.newaxis, tf.newaxis, :], axis=-1)).numpy()"
_PEAKS = "peaks = cams.max(axis=(1, 2), keepdims=True)"
_RETURN = "return np.divide(cams, peaks, out=np.zeros_like(cams), where=peaks > 0).astype(np.float32)"
_NO_RELU = ("cams = tf.nn.relu(tf.reduce_sum(", "cams = (tf.reduce_sum(")
_MIN_MAX = (_PEAKS, "cams = cams - cams.min(axis=(1, 2), keepdims=True)\n    " + _PEAKS)
_NOT_NORMALISED = (_RETURN, "return cams.astype(np.float32)")

WRONG_CAM = {
    "no ReLU: negative evidence kept (then scaled by the maximum)": change(_CAM, _NO_RELU),
    "no ReLU, min-max scaled to [0, 1]": change(_CAM, _NO_RELU, _MIN_MAX),
    "gradients not pooled over space: elementwise gradient x activation": change(
        _CAM, (_POOLED, "alphas = gradients"),
              ("maps * alphas[:, tf.newaxis, tf.newaxis, :]", "maps * alphas")),
    "gradients pooled over the batch too (one-image code run on a batch)": change(
        _CAM, (_POOLED, "alphas = tf.reduce_mean(gradients, axis=(0, 1, 2))[tf.newaxis]")),
    "gradients summed over space instead of averaged, then no normalisation": change(
        _CAM, (_POOLED, "alphas = tf.reduce_sum(gradients, axis=(1, 2))"),
              _NOT_NORMALISED),
    "the last layer with a spatial output, whatever layer_name says": change(
        _CAM, (_LAYER, "layer = [l for l in model.layers if len(l.output.shape) == 4][-1]")),
    "the layer before layer_name": change(
        _CAM, (_LAYER, "layer = model.layers[[l.name for l in model.layers].index(layer_name) - 1]")),
    "the input image instead of the layer": change(
        _CAM, ("[layer.output, model.output]", "[model.inputs[0], model.output]")),
    "always the top class, class_index ignored": change(
        _CAM, ("if class_index is None:", "if True:")),
    "class_index=None taken as class 0": change(
        _CAM, ("classes = tf.argmax(scores, axis=-1)", "classes = tf.zeros(tf.shape(scores)[:1], tf.int64)")),
    "the gradient of every class's score summed": change(
        _CAM, ("gradients = tape.gradient(class_scores, maps)", "gradients = tape.gradient(scores, maps)")),
    "no normalisation": change(_CAM, _NOT_NORMALISED),
    "normalised over the whole batch, not per image": change(
        _CAM, (_PEAKS, "peaks = np.full((len(cams), 1, 1), cams.max())")),
    "min-max scaled: (L - min) / (max - min)": change(_CAM, _MIN_MAX),
    "an all-zero map divided by its zero maximum (NaN)": change(
        _CAM, (_RETURN, "return (cams / peaks).astype(np.float32)")),
    "upsampled to the input's size": change(
        _CAM, (_RETURN,
               "cams = np.divide(cams, peaks, out=np.zeros_like(cams), where=peaks > 0)\n"
               "    return tf.image.resize(cams[..., np.newaxis], images.shape[1:3]).numpy()[..., 0]"
               ".astype(np.float32)")),
    "returns float64": change(
        _CAM, ("where=peaks > 0).astype(np.float32)", "where=peaks > 0).astype(np.float64)")),
}

RIGHT_CAM = {
    "einsum, tf.gather for the class scores, a tensor returned": with_body(_CAM, """
    x = tf.cast(images, tf.float32)
    two_outputs = keras.Model(model.inputs, [model.get_layer(layer_name).output, model.outputs[0]])
    with tf.GradientTape() as tape:
        a, y = two_outputs(x)
        c = (tf.argmax(y, axis=1, output_type=tf.int32) if class_index is None
             else tf.cast(class_index, tf.int32) * tf.ones(tf.shape(y)[0], tf.int32))
        y_c = tf.gather(y, c, axis=1, batch_dims=1)
    alpha = tf.reduce_mean(tape.gradient(y_c, a), axis=[1, 2])
    cam = tf.nn.relu(tf.einsum("nijk,nk->nij", a, alpha))
    peak = tf.reduce_max(cam, axis=[1, 2], keepdims=True)
    return tf.math.divide_no_nan(cam, peak)
"""),
    "one image at a time, a watched tensor, max-normalised only where the maximum is positive": with_body(
        _CAM, """
    layer = model.get_layer(layer_name)
    sub = keras.Model(model.input, [layer.output, model.output])
    images = np.asarray(images, dtype=np.float32)
    classes = ([None] * len(images) if class_index is None
               else list(np.broadcast_to(np.asarray(class_index), (len(images),))))
    result = []
    for image, c in zip(images, classes):
        with tf.GradientTape() as tape:
            activations, probabilities = sub(image[None])
            tape.watch(activations)
            if c is None:
                c = int(np.argmax(probabilities[0]))
            target = probabilities[:, int(c)]
        grads = tape.gradient(target, activations)[0]
        weights = np.mean(grads.numpy(), axis=(0, 1))
        heat = np.maximum(activations[0].numpy() @ weights, 0)
        if heat.max() > 0:
            heat = heat / heat.max()
        result.append(heat)
    return np.array(result, dtype=np.float32)
"""),
    "divided by the maximum plus a small epsilon": change(
        _CAM, (_RETURN, "return (cams / (peaks + 1e-10)).astype(np.float32)")),
    "NumPy in float64 for the weighted sum, the Keras tutorial's division per image": change(
        _CAM, (_CAMS,
               "cams = np.maximum(np.einsum('nhwk,nk->nhw', maps.numpy().astype(np.float64), "
               "alphas.numpy().astype(np.float64)), 0)"),
              (_RETURN,
               "return np.stack([c / c.max() if c.max() > 0 else c for c in cams]).astype(np.float32)")),
}

WRONG = {
    "central_crop_resize": WRONG_CROP,
    "caffe_preprocess": WRONG_CAFFE,
    "top_k": WRONG_TOPK,
    "grad_cam": WRONG_CAM,
}

RIGHT = {
    "central_crop_resize": RIGHT_CROP,
    "caffe_preprocess": RIGHT_CAFFE,
    "top_k": RIGHT_TOPK,
    "grad_cam": RIGHT_CAM,
}
