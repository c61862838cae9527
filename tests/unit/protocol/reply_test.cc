#include "control/protocol/reply.h"

#include <gtest/gtest.h>

namespace sipwall {
namespace {

TEST(Reply, TextForms) {
  EXPECT_EQ(format_reply(Reply::ok()), "ok");
  EXPECT_EQ(format_reply(Reply::ok().with("epoch", "1767225600")), "ok epoch=1767225600");
  EXPECT_EQ(format_reply(reply_for({Outcome::extended})), "exists: ttl extended");
  EXPECT_EQ(format_reply(reply_for({Outcome::exists})), "exists: ttl kept");
  EXPECT_EQ(format_reply(reply_for({Outcome::full})), "full");
  EXPECT_EQ(format_reply(reply_for({Outcome::not_found})), "not found");
  EXPECT_EQ(format_reply(reply_for({Outcome::added})), "ok");
  EXPECT_EQ(format_reply(reply_for({Outcome::removed})), "ok");
  EXPECT_EQ(format_reply(reply_for({Outcome::flushed, 12})), "ok removed=12");
  EXPECT_EQ(format_reply(reply_for({Outcome::flushed, 3, 5, 1})), "ok removed=3 added=5 full=1");
  EXPECT_EQ(format_reply(sync_reply({Outcome::flushed, 3, 5, 1}, 42)),
            "ok epoch=42 removed=3 added=5 full=1");
  EXPECT_EQ(format_reply(sync_reply({Outcome::flushed, 0, 0, 0}, 7)),
            "ok epoch=7 removed=0 added=0 full=0");
  EXPECT_EQ(format_reply(Reply::from(ParseError{9, "bad prefix '1.2.3'"})),
            "error: 9: bad prefix '1.2.3'");
  EXPECT_EQ(format_reply(Reply::error("sync end without sync begin")),
            "error: sync end without sync begin");
  EXPECT_EQ(reply_for({Outcome::invalid}).status, ReplyStatus::error);
  Reply list = Reply::ok().with("count", "2");
  list.lines = {"ban add 192.0.2.0/24 ttl=10", "ban add 192.0.2.9/32 ttl=5 as=control"};
  EXPECT_EQ(format_reply(list),
            "ok count=2\nban add 192.0.2.0/24 ttl=10\nban add 192.0.2.9/32 ttl=5 as=control");
}

TEST(Reply, TextParsesBack) {
  Reply list = Reply::ok().with("count", "2");
  list.lines = {"ban add 192.0.2.0/24 ttl=10", "ban add 192.0.2.9/32 ttl=5 as=control"};
  for (const Reply& r :
       {Reply::ok(), Reply::ok().with("epoch", "7").with("removed", "0"),
        reply_for({Outcome::extended}), reply_for({Outcome::exists}), reply_for({Outcome::full}),
        reply_for({Outcome::not_found}), Reply::from(ParseError{17, "missing ttl=SECONDS"}),
        Reply::error("no: colon column"), list}) {
    const auto back = parse_reply(format_reply(r) + "\n");
    ASSERT_TRUE(back.has_value()) << format_reply(r);
    EXPECT_EQ(*back, r) << format_reply(r);
  }
  // Free-text replies (status, counters) are not status replies.
  EXPECT_FALSE(parse_reply("rules /etc/sipwall/default.rules\nversion 3\n"));
  EXPECT_FALSE(parse_reply("okay"));
  EXPECT_FALSE(parse_reply("ok fine"));
  EXPECT_FALSE(parse_reply("ok =x"));
  EXPECT_FALSE(parse_reply(""));
}

TEST(Reply, JsonForms) {
  EXPECT_EQ(format_reply_json(Reply::ok()), R"({"status":"ok"})");
  EXPECT_EQ(format_reply_json(Reply::ok().with("epoch", "1767225600")),
            R"({"status":"ok","fields":{"epoch":"1767225600"}})");
  EXPECT_EQ(format_reply_json(reply_for({Outcome::extended})),
            R"({"status":"exists: ttl extended"})");
  EXPECT_EQ(format_reply_json(reply_for({Outcome::not_found})), R"({"status":"not found"})");
  EXPECT_EQ(format_reply_json(Reply::from(ParseError{9, "bad prefix 'a\"b'"})),
            R"({"status":"error","column":9,"message":"bad prefix 'a\"b'"})");
  EXPECT_EQ(format_reply_json(Reply::error("busy")), R"({"status":"error","message":"busy"})");
  Reply list = Reply::ok().with("count", "1");
  list.lines = {"pinhole open 192.0.2.1 4000 ttl=9 call=c1"};
  EXPECT_EQ(
      format_reply_json(list),
      R"({"status":"ok","fields":{"count":"1"},"entries":["pinhole open 192.0.2.1 4000 ttl=9 call=c1"]})");
  EXPECT_EQ(text_reply_json("rules x\nversion \"3\"\n"),
            R"({"status":"ok","text":"rules x\u000aversion \"3\"\u000a"})");
}

}  // namespace
}  // namespace sipwall
