"""Tests for the contact and link scanners (JD-SMS-15, JD-MB-07)."""

from __future__ import annotations

import pytest

from compliance.analyzer.scanners import contacts, disallowed_links, domain_of, links


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("联系13812345678", [("13812345678", "mobile")]),
        ("电话138 1234 5678", [("138 1234 5678", "mobile")]),
        ("手机138-1234-5678。", [("138-1234-5678", "mobile")]),
        ("138.1234.5678", [("138.1234.5678", "mobile")]),
        ("拨+86 13812345678", [("+86 13812345678", "mobile")]),
        ("北京010-12345678", [("010-12345678", "landline")]),
        ("深圳0755-1234567", [("0755-1234567", "landline")]),
        ("客服400-123-4567", [("400-123-4567", "service")]),
        ("QQ 12345678", [("12345678", "qq")]),
        ("加QQ：12345678", [("12345678", "qq")]),
        ("扣扣123456 企鹅号:654321", [("123456", "qq"), ("654321", "qq")]),
        ("VX：abc123", [("abc123", "wechat_id")]),
        ("加微信abc_def1领券", [("abc_def1", "wechat_id")]),
        ("威信号: shop-888", [("shop-888", "wechat_id")]),
        ("V信 abcdef", [("abcdef", "wechat_id")]),
        ("wx 13812345678", [("13812345678", "wechat_id")]),
        ("vx13812345678", [("13812345678", "wechat_id")]),
        ("微信13812345678", [("13812345678", "wechat_id")]),
        ("邮箱shop@example.com", [("shop@example.com", "email")]),
        ("发13812345678@qq.com", [("13812345678@qq.com", "email")]),
        # masked digits, as in the public corpus
        ("张经理：xxxxxxxxxxx", [("xxxxxxxxxxx", "mobile")]),
        ("手机138xxxxxxxx", [("138xxxxxxxx", "mobile")]),
        ("尾号138****5678", [("138****5678", "mobile")]),
        ("热线xxxx-xxxxxxx", [("xxxx-xxxxxxx", "landline")]),
        ("预约电话:xxxxxxxx", [("xxxxxxxx", "phone")]),
        # full-width colon and traditional characters around the number
        ("聯繫電話：13812345678", [("13812345678", "mobile")]),
        ("預約電話:87654321", [("87654321", "phone")]),
        ("企鵝號：12345678", [("12345678", "qq")]),
        # full-width digits are the same shape
        ("手机１３８ １２３４ ５６７８", [("１３８ １２３４ ５６７８", "mobile")]),
        ("（０１０）８７６５４３２１", [("（０１０）８７６５４３２１", "landline")]),
        # evasion: full-width keyword and id, overlapping keywords (加v / vx), spaced or
        # decorated keywords; the hit quotes the text as written
        ("ＶＸ：ａｂｃ１２３，欢迎咨询", [("ａｂｃ１２３", "wechat_id")]),
        ("微信号：ｗｘ１２３４５６", [("ｗｘ１２３４５６", "wechat_id")]),
        ("加vx：abc_123", [("abc_123", "wechat_id")]),
        ("加微：abc123", [("abc123", "wechat_id")]),
        ("＋Ｖ：abc123", [("abc123", "wechat_id")]),
        ("微 信：abc123", [("abc123", "wechat_id")]),
        ("薇❤信：abc123", [("abc123", "wechat_id")]),
        ("薇❤\ufe0f信：abc123", [("abc123", "wechat_id")]),
        ("Q Q 12345678", [("12345678", "qq")]),
        ("q-q群 12345678", [("12345678", "qq")]),
        # numbers spelled out in Chinese numerals
        ("加我一三八一二三四五六七八", [("一三八一二三四五六七八", "mobile")]),
        ("手机：幺三八 一二三四 五六七八", [("幺三八 一二三四 五六七八", "mobile")]),
        ("壹叁捌壹贰叁肆伍陆柒捌", [("壹叁捌壹贰叁肆伍陆柒捌", "mobile")]),
        ("扣扣：一二三四五六七八", [("一二三四五六七八", "qq")]),
        # two numbers side by side in one run: a local line, then a mobile (the run alone
        # reads as one invalid number) or a masked mobile
        ("抢购热线 56781234 139 1234 5678", [("56781234", "local"), ("139 1234 5678", "mobile")]),
        ("详询 56781234 139****5678", [("56781234", "local"), ("139****5678", "mobile")]),
        ("电话 139 1234 5678 56781234", [("139 1234 5678", "mobile"), ("56781234", "local")]),
        # pinyin look-alike of 微信 as the cue
        ("代理商请加veixin：shop_2024", [("shop_2024", "wechat_id")]),
        # enclosed digits
        ("加我①③⑧①②③④⑤⑥⑦⑧", [("①③⑧①②③④⑤⑥⑦⑧", "mobile")]),
        ("加我❶❸❽ ❶❷❸❹ ❺❻❼❽", [("❶❸❽ ❶❷❸❹ ❺❻❼❽", "mobile")]),
        ("扣扣：⒈⒉⒊⒋⒌⒍", [("⒈⒉⒊⒋⒌⒍", "qq")]),
    ],
)
def test_contacts_positives(text: str, expected: list[tuple[str, str]]) -> None:
    hits = contacts(text)
    assert [(h.text, h.label) for h in hits] == expected
    assert all(text[h.start : h.end] == h.text and h.category == "contact" for h in hits)


@pytest.mark.parametrize(
    "text",
    [
        "xx-xxx平米",
        "时间10:00-22:00",
        "订单号1234",
        "满100减20，3.5折",
        "wxabcdef",
        "qqmail 12345",
        "Boxx 123",
        "微信公众号关注我们",
        "2024年3月8日",
        "12345678901",
        "会员+vip888888",
        "我们 微 信 公 众 号",
        "ＶＩＰ会员专享",
        "二〇二四年十一月一日",
        "步骤①②③，简单三步",
        "一二三四五六，欢迎光临",
    ],
)
def test_contacts_near_misses(text: str) -> None:
    assert contacts(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("点击https://m.jd.com/item?id=1查看", [("https://m.jd.com/item?id=1", "url")]),
        ("访问jd.com/x或m.jd.com，", [("jd.com/x", "domain"), ("m.jd.com", "domain")]),
        ("戳t.cn/AbC1", [("t.cn/AbC1", "short_link")]),
        ("领券 sina.lt/p7Lc9t7 回td退订", [("sina.lt/p7Lc9t7", "short_link")]),
        ("http://dwz.cn/x.", [("http://dwz.cn/x", "short_link")]),
        ("3.cn/xyz 与 url.cn", [("3.cn/xyz", "short_link"), ("url.cn", "short_link")]),
        ("(见www.example.com)", [("www.example.com", "domain")]),
        ("ＪＤ官网JD.COM", [("JD.COM", "domain")]),
    ],
)
def test_links_positives(text: str, expected: list[tuple[str, str]]) -> None:
    hits = links(text)
    assert [(h.text, h.label) for h in hits] == expected
    assert all(text[h.start : h.end] == h.text and h.category == "link" for h in hits)


@pytest.mark.parametrize(
    "text",
    ["3.5折", "版本v1.2.3", "x.x折", "shop@qq.com", "Hello, world. Go to.", "http://", "file.txt"],
)
def test_links_near_misses(text: str) -> None:
    assert links(text) == []


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("HTTPS://User@M.JD.com:443/x?y", "m.jd.com"),
        ("t.cn/abc", "t.cn"),
        ("http://jd.com.", "jd.com"),
        ("www.example.com?q=1#f", "www.example.com"),
    ],
)
def test_domain_of(url: str, host: str) -> None:
    assert domain_of(url) == host


def test_disallowed_links_exact_entry() -> None:
    text = "看m.jd.com与a.m.jd.com和jd.com"
    bad = disallowed_links(text, ["M.JD.COM"])
    assert [h.text for h in bad] == ["a.m.jd.com", "jd.com"]
    assert all(h.kind == "disallowed_link" and h.category == "link" for h in bad)


def test_disallowed_links_suffix_entry() -> None:
    text = "看m.jd.com与a.b.jd.com和jd.com和jd.com.cn及notjd.com"
    assert [h.text for h in disallowed_links(text, [".jd.com"])] == ["jd.com.cn", "notjd.com"]


def test_disallowed_short_link_needs_its_own_entry() -> None:
    assert [h.label for h in disallowed_links("t.cn/x", [".jd.com"])] == ["short_link"]
    assert disallowed_links("t.cn/x", ["t.cn"]) == []
    assert disallowed_links("没有链接", []) == []
