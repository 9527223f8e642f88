"""The staff password strength rule (domain.passwords): length, not the username, not common."""
from portal.domain import passwords as pw


def test_rule_refuses_weak_passwords_with_a_chinese_reason():
    assert pw.password_problem("short-pass1") == pw.TOO_SHORT  # 11 characters
    assert pw.password_problem("x" * (pw.MAX_LENGTH + 1)) == pw.TOO_LONG
    assert pw.password_problem("Admin.Zhangsan", "admin.zhangsan") == pw.IS_USERNAME
    assert pw.password_problem("  PASSWORD1234 ") == pw.TOO_COMMON
    assert pw.password_problem("1qaz2wsx3edc") == pw.TOO_COMMON
    assert pw.password_problem("zzzzzzzzzzzzzz") == pw.ONE_CHARACTER
    assert all("\u4e00" <= m[0] <= "\u9fff" for m in (pw.TOO_SHORT, pw.TOO_LONG, pw.IS_USERNAME, pw.TOO_COMMON))


def test_rule_accepts_a_long_passphrase():
    assert pw.password_problem("correct horse battery", "dept.clerk") is None
    assert pw.password_problem("a" * 11 + "b") is None  # exactly 12, two characters
    assert all(len(p) >= pw.MIN_LENGTH for p in pw.COMMON)  # shorter ones are refused by length anyway
