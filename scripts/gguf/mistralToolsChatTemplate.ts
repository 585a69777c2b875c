/**
 * A chat template with tool support of its own, in the style of Mistral's v3 template
 * (Mistral-7B-Instruct-v0.3's tokenizer_config.json): tools as `[AVAILABLE_TOOLS] [...][/AVAILABLE_TOOLS]`
 * before the last user turn, calls as `[TOOL_CALLS] [{"name", "arguments", "id"}]`, results as
 * `[TOOL_RESULTS] {"content", "call_id"}[/TOOL_RESULTS]`. Shortened from Mistral's: its checks that
 * roles alternate and that call ids are 9 characters long are left out.
 */
export const mistralToolsChatTemplate =
    "{%- if messages[0][\"role\"] == \"system\" %}\n" +
    "    {%- set system_message = messages[0][\"content\"] %}\n" +
    "    {%- set loop_messages = messages[1:] %}\n" +
    "{%- else %}\n" +
    "    {%- set loop_messages = messages %}\n" +
    "{%- endif %}\n" +
    "{%- if not tools is defined %}\n" +
    "    {%- set tools = none %}\n" +
    "{%- endif %}\n" +
    "{%- set user_messages = loop_messages | selectattr(\"role\", \"equalto\", \"user\") | list %}\n" +
    "{{- bos_token }}\n" +
    "{%- for message in loop_messages %}\n" +
    "    {%- if message[\"role\"] == \"user\" %}\n" +
    "        {%- if tools is not none and (message == user_messages[-1]) %}\n" +
    "            {{- \"[AVAILABLE_TOOLS] [\" }}\n" +
    "            {%- for tool in tools %}\n" +
    "                {%- set tool = tool.function %}\n" +
    "                {{- '{\"type\": \"function\", \"function\": {' }}\n" +
    "                {%- for key, val in tool.items() if key != \"return\" %}\n" +
    "                    {%- if val is string %}\n" +
    "                        {{- '\"' + key + '\": \"' + val + '\"' }}\n" +
    "                    {%- else %}\n" +
    "                        {{- '\"' + key + '\": ' + val|tojson }}\n" +
    "                    {%- endif %}\n" +
    "                    {%- if not loop.last %}\n" +
    "                        {{- \", \" }}\n" +
    "                    {%- endif %}\n" +
    "                {%- endfor %}\n" +
    "                {{- \"}}\" }}\n" +
    "                {%- if not loop.last %}\n" +
    "                    {{- \", \" }}\n" +
    "                {%- else %}\n" +
    "                    {{- \"]\" }}\n" +
    "                {%- endif %}\n" +
    "            {%- endfor %}\n" +
    "            {{- \"[/AVAILABLE_TOOLS]\" }}\n" +
    "            {%- endif %}\n" +
    "        {%- if loop.last and system_message is defined %}\n" +
    "            {{- \"[INST] \" + system_message + \"\\n\\n\" + message[\"content\"] + \"[/INST]\" }}\n" +
    "        {%- else %}\n" +
    "            {{- \"[INST] \" + message[\"content\"] + \"[/INST]\" }}\n" +
    "        {%- endif %}\n" +
    "    {%- elif message.tool_calls is defined and message.tool_calls is not none %}\n" +
    "        {{- \"[TOOL_CALLS] [\" }}\n" +
    "        {%- for tool_call in message.tool_calls %}\n" +
    "            {%- set out = tool_call.function|tojson %}\n" +
    "            {{- out[:-1] }}\n" +
    "            {{- ', \"id\": \"' + tool_call.id + '\"}' }}\n" +
    "            {%- if not loop.last %}\n" +
    "                {{- \", \" }}\n" +
    "            {%- else %}\n" +
    "                {{- \"]\" + eos_token }}\n" +
    "            {%- endif %}\n" +
    "        {%- endfor %}\n" +
    "    {%- elif message[\"role\"] == \"assistant\" %}\n" +
    "        {{- \" \" + message[\"content\"]|trim + eos_token}}\n" +
    "    {%- elif message[\"role\"] == \"tool_results\" or message[\"role\"] == \"tool\" %}\n" +
    "        {%- if message.content is defined and message.content.content is defined %}\n" +
    "            {%- set content = message.content.content %}\n" +
    "        {%- else %}\n" +
    "            {%- set content = message.content %}\n" +
    "        {%- endif %}\n" +
    "        {{- '[TOOL_RESULTS] {\"content\": ' + content|string + \", \" }}\n" +
    "        {{- '\"call_id\": \"' + message.tool_call_id + '\"}[/TOOL_RESULTS]' }}\n" +
    "    {%- else %}\n" +
    "        {{- raise_exception(\"Only user and assistant roles are supported, with the exception of an initial optional system message!\") }}\n" +
    "    {%- endif %}\n" +
    "{%- endfor %}\n";
