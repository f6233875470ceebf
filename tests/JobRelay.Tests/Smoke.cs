namespace JobRelay.Tests; public class SmokeTests { [Fact] public void TrueIsTrue() => Assert.True(true); }
