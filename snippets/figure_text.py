"""The labels of the site's figures, in each of its languages.

Every label a figure shows goes through ``tr`` ("translate"). A page includes the section of its
own language, so the same plotting code draws English figures on English
pages and Chinese figures on Chinese pages; hooks/figures.py does the same
for the figures it draws.
"""

from __future__ import annotations


# --8<-- [start:en]
def tr(text: str) -> str:
    """A figure's label in English: as written."""
    return text
# --8<-- [end:en]


english = tr


# --8<-- [start:zh]
from matplotlib import font_manager, pyplot as plt

FIGURE_TEXT = {
    "x": "x",
    "y": "y",
    "epoch": "轮次（epoch）",
    "training MSE (log scale)": "训练 MSE（对数刻度）",
    "MSE (log scale)": "MSE（对数刻度）",
    "training points ({n})": "训练点（{n} 个）",
    "validation points ({n})": "验证点（{n} 个）",
    "y = 1 + 2x (true line)": "y = 1 + 2x（真实直线）",
    "fitted: y = {a:.4f} + {b:.4f}x": "拟合直线：y = {a:.4f} + {b:.4f}x",
    "gradient descent, lr {lr:g}": "梯度下降，学习率 {lr:g}",
    "random start": "随机起点",
    "least squares": "最小二乘解",
    "a (intercept)": "a（截距）",
    "b (slope)": "b（斜率）",
    "training loss": "训练损失",
    "validation loss": "验证损失",
    "lowest validation loss (epoch {epoch})": "验证损失最低（第 {epoch} 轮）",
    "early stop, patience {patience} (epoch {epoch})": "早停，耐心值 {patience}（第 {epoch} 轮）",
    "least-squares optimum ({optimum:.3f})": "最小二乘最优值（{optimum:.3f}）",
    "raw inputs, lr 1e-5": "原始输入，学习率 1e-5",
    "raw inputs, lr 1e-5, 100 epochs": "原始输入，学习率 1e-5，100 轮",
    "standardized inputs": "标准化输入",
    "standardized inputs, lr 0.1": "标准化输入，学习率 0.1",
    "apples": "苹果",
    "oranges": "橙子",
    "perfect prediction": "完美预测",
    "actual yield (t/ha)": "实际产量（吨/公顷）",
    "predicted yield (t/ha)": "预测产量（吨/公顷）",
    "SGD": "SGD",
    "SGD with momentum": "带动量的 SGD",
    "Adam": "Adam",
}
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "SimHei")
cjk_fonts = sorted({font.name for font in font_manager.fontManager.ttflist
                    if font.name in CJK_FONTS})
plt.rcParams["font.family"] = ["DejaVu Sans", *cjk_fonts]
if not cjk_fonts:
    print("matplotlib 找不到中文字体，图中的标签改用英文。要显示中文：安装一个中文字体"
          "（在 Colab 的单元格中运行 !apt-get install -y fonts-noto-cjk），"
          "删除 matplotlib 的字体缓存（!rm -rf ~/.cache/matplotlib），然后重启运行时。")


def tr(text: str) -> str:
    """A figure's label in Simplified Chinese; in English where matplotlib has
    no Chinese font, which would draw every Chinese character as an empty box."""
    return FIGURE_TEXT.get(text, text) if cjk_fonts else text
# --8<-- [end:zh]


chinese = tr
TRANSLATORS = {"en": english, "zh": chinese}
