"""Plausible mistakes (WRONG) and unusual correct answers (RIGHT) for ch10_semantic_segmentation.

Each entry is a full replacement of an exercise's solution cell; tests/test_mutants.py checks
that the exercise's test cell (visible and hidden parts) rejects every WRONG and accepts every RIGHT.
Most cases are the solution cell as solutions/ has it (`solution_source`) with an edit made by
`change` (tests/mutants/__init__.py), which fails when the text it replaces is no longer there; the
others are programs of their own (two mistakes edit one of them, a loop over the classes). The
mean-IoU target (build_unet) is scored on a scale: see SCORED.
"""

from tests.mutants import change, solution_source

CHAPTER = "ch10_semantic_segmentation"

# ----------------------------------------------------------------------------- mean_iou

_MEAN_IOU = solution_source(CHAPTER, "mean_iou")
_UNION = "union = confusion.sum(axis=0) + confusion.sum(axis=1) - intersection"

_LOOP_IOU = '''
def mean_iou(y_true, y_pred, n_classes):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    ious = []
    for c in range(n_classes):
        union = np.sum((y_true == c) | (y_pred == c))
        if union > 0:
            ious.append(np.sum((y_true == c) & (y_pred == c)) / union)
    return float(np.mean(ious))
'''

WRONG_MEAN_IOU = {
    "mean over all n_classes, absent classes counted as 0": change(
        _MEAN_IOU, ("present = union > 0", "present = union >= 0"),
        ("intersection[present] / union[present]", "intersection[present] / np.maximum(union[present], 1)")),
    "pixel accuracy instead of mean IoU": change(
        _MEAN_IOU, ("return float(np.mean(intersection[present] / union[present]))",
                    "return float(np.mean(y_true == y_pred))")),
    "IoU = TP / (TP + FP) (precision)": change(
        _MEAN_IOU, (_UNION, "union = confusion.sum(axis=0)")),
    "IoU = TP / (TP + FN) (recall)": change(
        _MEAN_IOU, (_UNION, "union = confusion.sum(axis=1)")),
    "classes present in y_true only": change(
        _MEAN_IOU, ("present = union > 0", "present = confusion.sum(axis=1) > 0")),
    "off by one: classes 0 .. n_classes - 2": change(
        _LOOP_IOU, ("for c in range(n_classes):", "for c in range(n_classes - 1):")),
    "background left out of the mean": change(
        _LOOP_IOU, ("for c in range(n_classes):", "for c in range(1, n_classes):")),
    "no cast: uint8 overflows in n_classes * y_true + y_pred": change(
        _MEAN_IOU, ("np.asarray(y_true).astype(np.int64).ravel()", "np.asarray(y_true).ravel()"),
        ("np.asarray(y_pred).astype(np.int64).ravel()", "np.asarray(y_pred).ravel()")),
    "Dice (F1) instead of IoU": change(
        _MEAN_IOU, ("intersection[present] / union[present]",
                    "2 * intersection[present] / (union[present] + intersection[present])")),
}

RIGHT_MEAN_IOU = {
    "a loop over classes with boolean masks": _LOOP_IOU,
    "scikit-learn's confusion matrix": '''
def mean_iou(y_true, y_pred, n_classes):
    from sklearn.metrics import confusion_matrix
    m = confusion_matrix(np.ravel(y_true), np.ravel(y_pred), labels=list(range(n_classes)))
    tp = np.diag(m).astype(float)
    union = m.sum(0) + m.sum(1) - tp
    return float(np.nanmean(np.where(union > 0, tp / np.where(union > 0, union, 1), np.nan)))
''',
    "a confusion matrix one class too large (the extra class is empty, so it is left out)": change(
        _MEAN_IOU, ("confusion = np.bincount(n_classes * y_true + y_pred, minlength=n_classes * n_classes)",
                    "k = n_classes + 1\n    confusion = np.bincount(k * y_true + y_pred, minlength=k * k)"),
        ("confusion.reshape(n_classes, n_classes)", "confusion.reshape(k, k)")),
    "np.add.at and a numpy float result": '''
def mean_iou(y_true, y_pred, n_classes):
    m = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(m, (np.ravel(y_true).astype(int), np.ravel(y_pred).astype(int)), 1)
    tp = np.diag(m)
    union = m.sum(axis=0) + m.sum(axis=1) - tp
    return np.float64((tp[union > 0] / union[union > 0]).mean())
''',
}

# ----------------------------------------------------------------------------- transposed_output_size

_SIZE = solution_source(CHAPTER, "transposed_output_size")
_SAME = '    if output_padding is None:\n        if padding == "same":\n            return n * stride\n'

WRONG_SIZE = {
    "the convolution's formula": '''
def transposed_output_size(n, kernel_size, stride, padding="valid", output_padding=None):
    p = 0 if padding == "valid" else kernel_size // 2
    return (n + 2 * p - kernel_size) // stride + 1
''',
    "forgets max(k, s): (n - 1) s + k for 'valid'": change(
        _SIZE, ("output_padding = max(stride - kernel_size, 0)", "output_padding = 0")),
    "'same' crops (k - 1) // 2, as Conv2D pads": change(
        _SIZE, ('crop = 0 if padding == "valid" else kernel_size // 2',
                'crop = 0 if padding == "valid" else (kernel_size - 1) // 2')),
    "'same' always n * s, ignoring output_padding": change(
        _SIZE, (_SAME,
                "    if padding == \"same\":\n        return n * stride\n    if output_padding is None:\n")),
    "'same' is n * s + output_padding": change(
        _SIZE, (_SAME,
                '    if padding == "same":\n        return n * stride + (output_padding or 0)\n'
                "    if output_padding is None:\n")),
    "output_padding ignored for 'valid'": change(
        _SIZE, ("    if output_padding is None:\n        if padding", "    if True:\n        if padding")),
    "n * s for 'valid' too": change(
        _SIZE, ("        output_padding = max(stride - kernel_size, 0)\n", "        return n * stride\n")),
    "the padding p added instead of cropped": change(
        _SIZE, ("- 2 * crop", "+ 2 * crop")),
}

RIGHT_SIZE = {
    "Keras' own form: k % 2 for 'same', numpy ints": '''
def transposed_output_size(n, kernel_size, stride, padding="valid", output_padding=None):
    n, k, s = np.int64(n), np.int64(kernel_size), np.int64(stride)
    if padding == "valid":
        return (n - 1) * s + (max(k, s) if output_padding is None else k + output_padding)
    return n * s if output_padding is None else (n - 1) * s + k % 2 + output_padding
''',
    "upper-case padding accepted, output padding chosen as the missing rows": '''
def transposed_output_size(n, kernel_size, stride, padding="valid", output_padding=None):
    padding = padding.lower()
    if padding == "same":
        base = (n - 1) * stride + kernel_size - 2 * (kernel_size // 2)
        return n * stride if output_padding is None else base + output_padding
    base = (n - 1) * stride + kernel_size
    if output_padding is None:
        output_padding = (n - 1) * stride + max(kernel_size, stride) - base
    return base + output_padding
''',
}

# ----------------------------------------------------------------------------- conv_transpose2d

_CONVT = solution_source(CHAPTER, "conv_transpose2d")
_STAMP = 'np.einsum("nc,abgc->nabg", x[:, i, j, :], weights)'

WRONG_CONVT = {
    "kernel flipped (that is the 'convolution' view's kernel, used in the scatter)": change(
        _CONVT, ("weights = np.asarray(weights, dtype=np.float64)",
                 "weights = np.asarray(weights, dtype=np.float64)[::-1, ::-1]")),
    "output size (n - 1) s + k, no room when k < s": change(
        _CONVT, ("(height - 1) * stride + max(kh, stride), (width - 1) * stride + max(kw, stride)",
                 "(height - 1) * stride + kh, (width - 1) * stride + kw")),
    "stride ignored when placing the stamps": change(
        _CONVT, ("out[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :] += stamp",
                 "out[:, i:i + kh, j:j + kw, :] += stamp")),
    "weights read as (kh, kw, C_in, C_out), Conv2D's layout": change(
        _CONVT, (_STAMP, 'np.einsum("nc,abcg->nabg", x[:, i, j, :], weights)'),
        ("kh, kw, c_out, _ = weights.shape", "kh, kw, _, c_out = weights.shape")),
    "overlapping stamps overwrite instead of add": change(
        _CONVT, ("j * stride + kw, :] += stamp", "j * stride + kw, :] = stamp")),
    "sum over the kernel's rows instead of the input channels": change(
        _CONVT, (_STAMP, _STAMP + ".sum(axis=1, keepdims=True) + 0 * weights[None, :, :, :, 0]")),
    "only the first input channel": change(
        _CONVT, (_STAMP, 'np.einsum("n,abg->nabg", x[:, i, j, 0], weights[..., 0])')),
    "tf.nn.conv2d_transpose (not written by hand)": '''
def conv_transpose2d(x, weights, stride):
    x = np.asarray(x, np.float32)
    weights = np.asarray(weights, np.float32)
    n, h, w, _ = x.shape
    kh, kw, c_out, _ = weights.shape
    shape = (n, (h - 1) * stride + max(kh, stride), (w - 1) * stride + max(kw, stride), c_out)
    return tf.nn.conv2d_transpose(x, weights, shape, stride, padding="VALID").numpy()
''',
}

RIGHT_CONVT = {
    "a loop over kernel taps with strided slices": '''
def conv_transpose2d(x, weights, stride):
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    n, h, w, _ = x.shape
    kh, kw, c_out, _ = weights.shape
    s = stride
    out = np.zeros((n, (h - 1) * s + max(kh, s), (w - 1) * s + max(kw, s), c_out))
    for a in range(kh):
        for b in range(kw):
            out[:, a:a + (h - 1) * s + 1:s, b:b + (w - 1) * s + 1:s, :] += x @ weights[a, b].T
    return out
''',
    "dilate with zeros, pad k - 1, cross-correlate with the flipped kernel (float32)": '''
def conv_transpose2d(x, weights, stride):
    x = np.asarray(x, dtype=np.float32)
    n, h, w, c_in = x.shape
    kh, kw, c_out, _ = np.shape(weights)
    dilated = np.zeros((n, (h - 1) * stride + 1, (w - 1) * stride + 1, c_in), np.float32)
    dilated[:, ::stride, ::stride, :] = x
    extra_h, extra_w = max(stride - kh, 0), max(stride - kw, 0)
    padded = np.pad(dilated, ((0, 0), (kh - 1, kh - 1 + extra_h), (kw - 1, kw - 1 + extra_w), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(1, 2))
    flipped = np.asarray(weights, np.float32)[::-1, ::-1]
    return np.einsum("nhwcab,abgc->nhwg", windows, flipped)
''',
}

WRONG = {"mean_iou": WRONG_MEAN_IOU, "transposed_output_size": WRONG_SIZE, "conv_transpose2d": WRONG_CONVT}
RIGHT = {"mean_iou": RIGHT_MEAN_IOU, "transposed_output_size": RIGHT_SIZE, "conv_transpose2d": RIGHT_CONVT}
SCORED = {
    "build_unet": "trained by the test cell's fixed routine and scored on a scale (mean IoU on held-out "
                  "scenes, partial credit from 0.40); the round-trip test checks its scores",
}
