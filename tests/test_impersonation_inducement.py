"""Impersonation and review inducement on real-copy shapes (issue 12, docs/accuracy.md Guideline).

Impersonation: an official marker (京东官方, 移动客服, 公安局通知, a points notice, a body's
name in the signature) is an error on every channel that checks copy; the bare name of a
platform, carrier, bank or insurer as the sender (中国移动 as a sign-off, 唯品会 as an opener,
天猫…旗舰店) is a warning whose message gives the reason; naming such a body as a place or a
channel (在京东搜索, 支持支付宝付款, 到中国移动营业厅办理, 由平安保险承保) is nothing.
Inducement: rewards for reviews and recruiting for fake orders are errors; rewards for
referrals, sharing and signing in are nothing.

The texts are invented (the corpora are never copied into the repository).
"""

from __future__ import annotations

import pytest

from compliance import Engine
from compliance.findings import Finding

#: The channels whose packs check copy (the others have no copy rules at all).
COPY_CHANNELS = ("jd.sms", "jd.message_box", "wechat.template", "common.copy")


def found(engine: Engine, text: str, category: str, channel: str = "jd.sms") -> list[tuple[str, str, str]]:
    """(flagged text, severity, rule) of every finding of ``category``."""
    report = engine.lint(text, channel=channel)
    out = []
    for f in report.findings:
        if f.category == category:
            assert f.field is not None and f.start is not None and f.end is not None
            out.append((report.fields[f.field][f.start:f.end], f.severity, f.rule))
    return out


def findings(engine: Engine, text: str, category: str, channel: str = "jd.sms") -> list[Finding]:
    return [f for f in engine.lint(text, channel=channel).findings if f.category == category]


# --- impersonation: official markers and account notices are errors --------------------------

@pytest.mark.parametrize(("text", "flagged"), [
    ("【小米旗舰店】中国移动积分计划全新升级，回复即可兑换 回T退订", "中国移动积分"),
    ("【小米旗舰店】移动积分当钱用，回复即可兑换 回T退订", "移动积分"),
    ("【小米旗舰店】公安局通知：请尽快处理您的违章记录 回T退订", "公安局通知"),
    ("【小米旗舰店】淘宝小二提醒：您的订单有新优惠 回T退订", "淘宝小二"),
    ("【小米旗舰店】拼多多客服提醒：您的红包即将过期 回T退订", "拼多多客服"),
    ("【小米旗舰店】京东官方客服提醒您领券 回T退订", "京东官方客服"),  # JD-SMS-16 as before
    ("【小米旗舰店】微信关注中国联通城东客服公众号 回T退订", "联通城东客服"),  # 客服 after a place
    ("【小米旗舰店】城南旅游局友情提示：文明出游 回T退订", "局友情提示"),  # a state body's notice
])
def test_official_markers_are_errors_on_jd_sms(engine: Engine, text: str, flagged: str) -> None:
    assert found(engine, text, "impersonation") == [(flagged, "error", "copy-impersonation")]


def test_a_body_named_in_the_signature_is_an_error(engine: Engine) -> None:
    # The signature is split off without 【】: the bare name there claims the sender.
    assert found(engine, "【中国移动】您的积分即将过期，回复即可兑换", "impersonation") == [
        ("中国移动", "error", "copy-impersonation-signature")]
    assert found(engine, "【天猫好物旗舰店】新品上市 回T退订", "impersonation") == [
        ("天猫", "error", "copy-impersonation-signature")]
    assert found(engine, "【小米旗舰店】新品上市 回T退订", "impersonation") == []


@pytest.mark.parametrize("channel", COPY_CHANNELS)
def test_carriers_and_state_bodies_on_every_copy_channel(engine: Engine, channel: str) -> None:
    for text, flagged in [("公安局通知：请尽快处理", "公安局通知"), ("中国移动客服提醒：积分即将过期", "中国移动客服")]:
        assert [(t, s) for t, s, _ in found(engine, text, "impersonation", channel)] == [(flagged, "error")]


def test_jd_signature_rule_unchanged(engine: Engine) -> None:
    report = engine.lint("【京东好物】新品上市 回T退订", channel="jd.sms")
    assert "jd-sms-signature-platform-name" in {f.rule for f in report.findings}
    assert found(engine, "【小米旗舰店】京东物流配送，次日达 回T退订", "impersonation") == []


# --- impersonation: a bare name as the sender is a warning with its reason -------------------

@pytest.mark.parametrize(("text", "flagged"), [
    ("【小米旗舰店】唯品会周末特卖，大牌三折起 回T退订", ["唯品会"]),
    ("【小米旗舰店】天猫双十一狂欢，全场五折 回T退订", ["天猫"]),
    ("【小米旗舰店】新华天猫旗舰店上新啦 回T退订", ["天猫"]),  # a shop name containing a platform's
    ("【小米旗舰店】预存话费送好礼，名额有限。中国移动 回T退订", ["中国移动"]),
    ("【小米旗舰店】夜间流量包只需五元，新华路移动 回T退订", ["移动"]),
    ("【小米旗舰店】城东工行推出低息信用贷 回T退订", ["工行"]),
    ("【小米旗舰店】号店年货节，坚果买二送一 回T退订", ["号店"]),  # 1号店 with its digit stripped
    ("【小米旗舰店】尊敬的移动用户，新年送您流量红包 回T退订", ["移动用户"]),
    ("【小米旗舰店】城东平安车可贷房可贷，当天放款 回T退订", ["平安"]),  # Ping An opening a loan offer
    ("【小米旗舰店】国美在线家电节，满千减百 回T退订", ["国美在线"]),
    ("【小米旗舰店】尊敬的天翼用户，您有免费流量可以领取 回T退订", ["天翼用户"]),
])
def test_bare_names_as_sender_are_warnings(engine: Engine, text: str, flagged: list[str]) -> None:
    hits = findings(engine, text, "impersonation")
    assert [(f.severity, f.rule) for f in hits] == [("warning", "copy-impersonation")] * len(flagged)
    report = engine.lint(text, channel="jd.sms")
    assert [report.fields[f.field][f.start:f.end] for f in hits if f.field and f.start is not None
            and f.end is not None] == flagged
    assert all("除非确由" in f.message for f in hits)  # the reason: unless that body sent it
    assert report.ok  # warnings only: the message may go out after a human check


# --- impersonation: places and channels are nothing ------------------------------------------

@pytest.mark.parametrize("body", [
    "在京东搜索店铺名领券",
    "支持支付宝付款",
    "到中国移动营业厅办理",
    "由平安保险承保，放心购买",
    "在淘宝搜索本店",
    "用淘宝账号登录即可领取",
    "支持工商银行信用卡分期免息",
    "地址：建设银行对面",
    "移动电源买一送一",
    "手机移动端下单更优惠",
    "谨防电信诈骗",
    "满满当当一大箱",
    "美团外卖搜索本店",
    "地址：移动公司二楼",
    "诚聘淘宝客服文员",
    "添加微信客服领取优惠券",
    "本店客服提醒您",
    "品牌官方旗舰店上新",
    "因微信客服较忙，请稍候",
    "下载城东移动掌上营业厅查询话费",
    "直接升级联通套餐享受优惠",
    "魅族手机移动联通双4G版降价",
    "专业办理农业银行信用卡",
    "登录翼支付客户端领红包",
    "祝您出入平安，新年快乐",
    "关注城东联通微信公众号领取流量",
    "详情请关注城东银行微信公众号",
    "布局提示：请按图安装",
])
def test_places_and_channels_are_not_impersonation(engine: Engine, body: str) -> None:
    assert found(engine, f"【小米旗舰店】{body} 回T退订", "impersonation") == []


# --- inducement -------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "flagged"), [
    ("收货后好评再返现金5元", "好评再返"),
    ("确认收货五星好评截图返红包", "五星好评"),
    ("工作之余可参加刷单兼职，日结", "刷单"),
    ("诚聘网店刷单员，手机即可操作", "刷单"),
    ("专业刷信誉，快速升钻", "刷信誉"),
    ("本店请您来唰单，一单一结", "唰单"),  # look-alike of 刷单
    ("收货后首评送5元券", "首评送"),
])
def test_review_rewards_and_fake_orders_are_errors(engine: Engine, body: str, flagged: str) -> None:
    got = found(engine, f"【小米旗舰店】{body} 回T退订", "inducement")
    assert (flagged, "error", "copy-inducement") in got


@pytest.mark.parametrize("body", ["您的10分满意是我们最大的动力", "百分努力只为您8分满意", "期待您满意的评价",
                                  "收到货麻烦给个好评哦"])
def test_the_carriers_rating_formula_and_review_requests_are_inducement(engine: Engine, body: str) -> None:
    got = found(engine, f"【小米旗舰店】{body} 回T退订", "inducement")
    assert got and all(severity == "error" for _, severity, _ in got)


@pytest.mark.parametrize("body", ["我对这次旅行十分满意", "期待您的光临", "客户满意度调查结果公布"])
def test_satisfaction_without_a_rating_request_is_not_inducement(engine: Engine, body: str) -> None:
    assert found(engine, f"【小米旗舰店】{body} 回T退订", "inducement") == []


def test_asking_for_a_top_rating_is_inducement_even_without_a_reward(engine: Engine) -> None:
    assert found(engine, "【小米旗舰店】期待您的满意评价 回T退订", "inducement") == [
        ("满意评价", "error", "copy-inducement")]
    assert found(engine, "【小米旗舰店】收货后求好评 回T退订", "inducement") == [("求好评", "error", "copy-inducement")]
    assert found(engine, "【小米旗舰店】感谢您的满意评价 回T退订", "inducement") == []


@pytest.mark.parametrize("body", [
    "邀请好友注册送红包",
    "老带新有奖励",
    "分享朋友圈送优惠券",
    "关注店铺有礼",
    "每日签到有礼",
    "买一送一，送完即止",
    "平台严禁刷单，谨防刷单诈骗",
    "欢迎收货后评价",
])
def test_referral_share_signin_rewards_are_not_inducement(engine: Engine, body: str) -> None:
    assert found(engine, f"【小米旗舰店】{body} 回T退订", "inducement") == []
