"""The strength rule for staff passwords (pure; no Flask, no database).

Access to credit data is controlled (海南 第五十一条; 湖南 第三十三条), and a password is the
first of a staff account's two factors: at least ``MIN_LENGTH`` characters, not the username and
not one of the passwords everybody tries first. Long passphrases are welcome; the upper bound only
keeps one argon2 hash cheap enough.
"""
from __future__ import annotations

MIN_LENGTH = 12
MAX_LENGTH = 128

# The passwords of 12 characters or more that lists of leaked passwords rank first, and the
# obvious ones for this portal. Compared without case and surrounding spaces.
COMMON = frozenset({
    "123456789012", "1234567890123", "12345678901234", "123456789000", "1234567890ab", "1234567890qwe",
    "111111111111", "000000000000", "888888888888", "666666666666", "123123123123", "112233445566",
    "147258369000", "qwertyuiop12", "qwertyuiop123", "qwertyuiopasdf", "1qaz2wsx3edc", "1q2w3e4r5t6y",
    "zaq12wsxcde3", "asdfghjkl123", "password1234", "password12345", "password123!", "passw0rd1234",
    "p@ssw0rd1234", "p@ssword1234", "iloveyou1234", "woaini131452", "woaini520520", "aa123456789a",
    "abc123456789", "abcd12345678", "abcdefghijkl", "admin1234567", "admin@123456", "administrator",
    "administrator1", "qwerty123456", "welcome12345", "changeme1234", "letmein12345", "football1234",
    "baseball1234", "superman1234", "trustno11234", "monkey123456", "dragon123456", "sunshine1234",
    "princess1234", "starwars1234", "computer1234", "internet1234", "a1b2c3d4e5f6", "aaaaaaaaaaaa",
    "abcabcabcabc", "asdasdasdasd", "qweqweqweqwe", "zxcvbnm12345", "1234qwerasdf", "qwer1234asdf",
    "xinyong123456", "weijian123456", "credit123456", "portal123456", "health123456",
})
TOO_SHORT = f"密码至少 {MIN_LENGTH} 位。"
TOO_LONG = f"密码不能超过 {MAX_LENGTH} 位。"
IS_USERNAME = "密码不能与用户名相同。"
TOO_COMMON = "该密码过于常见，容易被猜中，请换一个（可用几个词组成的较长短语）。"
ONE_CHARACTER = "密码不能由同一个字符重复组成。"


def password_problem(password: str, username: str = "") -> str | None:
    """Why ``password`` may not be used by ``username`` (a Chinese message), or ``None``."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    if len(password) > MAX_LENGTH:
        return TOO_LONG
    folded = password.strip().casefold()
    if username and folded == username.strip().casefold():
        return IS_USERNAME
    if len(set(folded)) == 1:
        return ONE_CHARACTER
    if folded in COMMON:
        return TOO_COMMON
    return None
